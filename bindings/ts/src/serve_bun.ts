// The CLI's HTTP server on Bun: Bun.serve with the fetch handler.

import type { Serve } from "./cli.ts";

export const serve: Serve = ({ hostname, port, app }) => {
  const server = Bun.serve({
    hostname,
    port,
    fetch: app.fetch,
    // Event streams stay open between events; Bun's default closes them after 10 s idle.
    idleTimeout: 0,
    // Our own cap (10 MiB by default) answers 413 in the request's format; Bun's is only a backstop.
    maxRequestBodySize: 1024 * 1024 * 1024,
  });
  return Promise.resolve({
    port: server.port ?? port,
    close: () => server.stop(true),
  });
};
