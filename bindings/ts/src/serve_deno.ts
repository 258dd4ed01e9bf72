// The CLI's HTTP server on Deno: Deno.serve with the fetch handler.

import type { Serve } from "./cli.ts";

export const serve: Serve = ({ hostname, port, app }) => {
  const server = Deno.serve({ hostname, port, onListen() {} }, app.fetch);
  return Promise.resolve({
    port: server.addr.port,
    close: () => server.shutdown(),
  });
};
