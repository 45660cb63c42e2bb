import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import type { ConfigUser } from '../config/schema.js';

const bcryptHash = /^\$2[abxy]?\$\d{2}\$/;

/** `name:hash` lines as `htpasswd -B` writes them; other lines are ignored. */
export function readHtpasswd(file: string): ConfigUser[] {
  return parse(readFileSync(file, 'utf8'));
}

function parse(text: string): ConfigUser[] {
  return text.split(/\r?\n/).flatMap((line) => {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const hash = line.slice(colon + 1).trim();
    return colon > 0 && bcryptHash.test(hash) ? [{ name, password: hash }] : [];
  });
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** Replaces the file's content atomically: a reader sees the old file or the new one, whole. */
function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

/** The lines of `text` but the one for `name` (every other line, comments included, kept as is). */
function without(text: string, name: string): string[] {
  return text.split(/\r?\n/).filter((line) => line !== '' && line.slice(0, line.indexOf(':')) !== name);
}

/** Adds a user, or sets a new password for one, with a bcrypt hash (cost 10, as `htpasswd -B`). */
export function setHtpasswdUser(file: string, name: string, password: string): 'added' | 'updated' {
  if (!/^[^:\s]+$/.test(name)) throw new Error(`invalid user name '${name}': no colon or white space`);
  const text = readOrEmpty(file);
  const existed = parse(text).some((user) => user.name === name);
  writeAtomically(file, [...without(text, name), `${name}:${bcrypt.hashSync(password, 10)}`].join('\n') + '\n');
  return existed ? 'updated' : 'added';
}

/** Removes a user; false when there was none by that name. */
export function removeHtpasswdUser(file: string, name: string): boolean {
  const text = readOrEmpty(file);
  if (!parse(text).some((user) => user.name === name)) return false;
  const kept = without(text, name);
  writeAtomically(file, kept.length > 0 ? `${kept.join('\n')}\n` : '');
  return true;
}
