// The API on a real-world database: Chinook (a copy; the shared file is never
// opened for writing). Skipped with a message when the file is absent.

import { enc } from "./client.ts";
import { check, eq, status, type Test } from "./harness.ts";
import { query } from "./fixture.ts";
import type { Ctx } from "./cases.ts";

type Json = any;

export const CHINOOK_TABLES = ["Album", "Artist", "Customer", "Employee", "Genre", "Invoice", "InvoiceLine",
  "MediaType", "Playlist", "PlaylistTrack", "Track"];

export function chinookTests(ctx: Ctx): Test[] {
  const T: Test[] = [];
  const test = (name: string, fn: () => Promise<void>) =>
    T.push({ name: `chinook: ${name}`, fn: async () => { ctx.testName = `chinook: ${name}`; await fn(); } });

  test("every table is listed, nothing else", async () => {
    const { a, j } = await ctx.api("GET", "/api/schema");
    status(a, 200, "GET /api/schema");
    ctx.dsid = j.dsid;
    eq(Object.keys(j.tables).sort(), CHINOOK_TABLES, "tables");
    const s = j.tables.Album.schema;
    eq(Object.keys(s.properties), ["AlbumId", "Title", "ArtistId"], "Album properties");
    eq(s.properties.ArtistId["x-references"], { table: "Artist", column: "ArtistId" }, "Album.ArtistId references");
    eq(j.tables.Artist.schema.properties.Name.maxLength, 120, "NVARCHAR(120)");
    eq(j.tables.PlaylistTrack.schema.required?.slice().sort(), ["PlaylistId", "TrackId"], "composite key required");
  });

  test("Album: paging via next visits all rows once", async () => {
    const ids: number[] = [];
    let path = "/api/tables/Album/rows?limit=100";
    let pages = 0;
    for (; pages < 20; pages++) {
      const { a, j } = await ctx.api("GET", path);
      status(a, 200, `GET ${path}`);
      ids.push(...j.rows.map((r: Json) => r.AlbumId));
      if (j.next === null) break;
      path = `/api/tables/Album/rows?limit=100&after=${enc(j.next)}`;
    }
    eq(pages + 1, 4, "pages of 100");
    eq(ids, query(ctx.db, "SELECT AlbumId FROM Album ORDER BY AlbumId").map((r) => Number(r.AlbumId)), "album ids");
  });

  test("a row by primary key, single and composite", async () => {
    const { a, j } = await ctx.api("GET", "/api/tables/Album/rows/1");
    status(a, 200, "Album/1");
    eq(j.row, { AlbumId: 1, Title: "For Those About To Rock We Salute You", ArtistId: 1 }, "Album 1");
    const pt = await ctx.api("GET", "/api/tables/PlaylistTrack/rows/1,3402");
    status(pt.a, 200, "PlaylistTrack/1,3402");
    eq(pt.j.row, { PlaylistId: 1, TrackId: 3402 }, "PlaylistTrack row");
    const inv = await ctx.api("GET", "/api/tables/Invoice/rows/1");
    status(inv.a, 200, "Invoice/1");
    eq(typeof inv.j.row.Total, "number", "NUMERIC(10,2) is a number");
  });

  test("create and delete an artist on the copy", async () => {
    const { a, j } = await ctx.api("POST", "/api/tables/Artist/rows", { Name: "Nakedhtmx Test Band" });
    status(a, 201, "POST Artist");
    const id = j.pk.ArtistId;
    check(Number.isInteger(id) && id > 275, `ArtistId ${id}`);
    eq(query(ctx.db, "SELECT Name FROM Artist WHERE ArtistId = ?", id)[0]?.Name, "Nakedhtmx Test Band", "in the database");
    const del = await ctx.api("DELETE", `/api/tables/Artist/rows/${id}`);
    status(del.a, 204, "DELETE Artist");
    const gone = await ctx.api("GET", `/api/tables/Artist/rows/${id}`);
    status(gone.a, 404, "gone");
  });

  test("HTML pages of the biggest tables load", async () => {
    for (const t of ["Track", "InvoiceLine", "PlaylistTrack", "Album"]) {
      const p = await ctx.page(`/t/${t}`);
      status(p, 200, `/t/${t}`);
    }
    status(await ctx.page("/t/Track/r/1"), 200, "/t/Track/r/1");
    status(await ctx.page("/t/PlaylistTrack/r/1,3402"), 200, "/t/PlaylistTrack/r/1,3402");
  });

  return T;
}
