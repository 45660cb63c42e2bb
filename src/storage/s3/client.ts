import { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import type { S3StorageConfig } from '../../config/schema.js';

/**
 * An S3 client for the configured endpoint. Credentials come from the config, or else from the
 * SDK's usual chain (AWS_* variables, a profile, an instance role). Nothing of a request reaches
 * our logs through the SDK: its messages go to debug, as text only.
 */
export function createS3Client(config: S3StorageConfig, log: Logger, endpoint = config.endpoint): S3Client {
  const quiet = (...content: unknown[]): void => {
    const text = content.filter((item): item is string => typeof item === 'string').join(' ');
    if (text !== '') log.debug({ component: 's3' }, text);
  };
  const agent = { keepAlive: true, maxSockets: config.maxConnections };
  return new S3Client({
    region: config.region,
    ...(endpoint === '' ? {} : { endpoint }),
    forcePathStyle: config.forcePathStyle,
    ...(config.accessKeyId === '' ? {} : { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }),
    // Checksums beyond what S3 requires (CRC32 trailers on every upload) are newer than many
    // S3-compatible stores (radosgw 16 refuses them); the sha256 we compute ourselves covers the bytes.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      httpAgent: agent,
      httpsAgent: agent,
      connectionTimeout: 10_000,
      // A store that stops answering fails the request, instead of holding it for good; the same
      // bound applies to a blob GET whose client stops reading, which holds its S3 connection.
      socketTimeout: config.timeoutSeconds * 1000,
    },
    logger: { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
}
