// dynalite ships no types; this covers the part the tests use.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  type DynaliteOptions = {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    path?: string;
  };

  export default function dynalite(options?: DynaliteOptions): Server;
}
