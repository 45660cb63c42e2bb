import type { ComponentChildren } from 'preact';

export interface Row {
  key: string;
  /** The first cell: a row header. */
  head: ComponentChildren;
  cells: ComponentChildren[];
  current?: boolean;
}

/** A table with column headers and a header cell per row, scrolling sideways when narrow. */
export function DataTable({ caption, hideCaption = false, columns, rows, class: className }: { caption: string; hideCaption?: boolean; columns: string[]; rows: Row[]; class?: string }) {
  return (
    <div class="table-scroll">
      <table class={className}>
        <caption class={hideCaption ? 'visually-hidden' : undefined}>{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key} aria-current={row.current ? 'true' : undefined}>
              <th scope="row">{row.head}</th>
              {row.cells.map((cell, i) => (
                <td key={i}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
