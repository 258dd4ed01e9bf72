// The CLI's HTTP server on Node: node:http with the node handler.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Serve } from "./cli.ts";

export const serve: Serve = ({ hostname, port, app }) =>
  new Promise((resolve, reject) => {
    const server = createServer(app.node);
    // The whole request (head and body) has 30 s to arrive, the head 10 s:
    // a client trickling bytes must not hold a request open. Event streams
    // are answers, which these do not limit.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections(); // open event streams would hold close() forever
          }),
      });
    });
  });
