// nakedhtmx page script: small progressive enhancements on top of htmx.
// Pages work without it; it adds feedback and keeps open screens live.
(() => {
  // A failed request (server down, network gone) should not fail silently.
  // A page the offline worker answered says so in its banner already (its
  // live stream fails by design).
  document.addEventListener("htmx:error", () => {
    if (document.getElementById("nh-offline-banner")) return;
    let n = document.getElementById("nh-offline");
    if (!n) {
      n = document.createElement("p");
      n.id = "nh-offline";
      n.className = "notice error";
      n.setAttribute("role", "alert");
      n.textContent = "The server could not be reached. Your input is kept; try again.";
      document.querySelector("main")?.prepend(n);
    }
  });
  document.addEventListener("htmx:after:request", () => document.getElementById("nh-offline")?.remove());

  const live = () => document.getElementById("nh-live");
  const flash = (el) => {
    el.classList.remove("flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("flash");
  };
  const notice = (id, text, cls = "warn") => {
    let n = document.getElementById(id);
    if (!n) {
      n = document.createElement("p");
      n.id = id;
      n.setAttribute("role", "status");
      document.querySelector("main")?.prepend(n);
    }
    n.className = "notice " + cls;
    n.textContent = text;
    return n;
  };
  const parse = (html) => {
    const t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  };

  // data-base is the stored value a field was rendered with (the server writes
  // it, so it survives morphs and re-renders; live updates move it): a field
  // whose value still equals it is untouched by the person.
  const fieldValue = (el) => (el.type === "checkbox" ? (el.checked ? "1" : "0") : el.value);
  const fields = (form) =>
    [...form.querySelectorAll("input[name], select[name], textarea[name]")].filter(
      (el) => !el.name.startsWith("_") && !(el.type === "hidden" && form.querySelector(`input[type=checkbox][name="${CSS.escape(el.name)}"]`)),
    );
  const setField = (el, v) => {
    if (el.type === "checkbox") el.checked = v === "1" || v === "true";
    else el.value = v;
    el.dataset.base = fieldValue(el);
  };

  // On a plain view (no search, filter or paging) the count is the table's.
  const plainView = () => {
    const q = new URLSearchParams(location.search);
    // Facets and totals count every matching row: any change re-counts them.
    return ![...q.keys()].some((k) =>
      k === "after" || k === "q" || k === "sort" || k === "null" || k === "facet" || k === "aggregates" || k.startsWith("f.")
    );
  };
  const bumpCount = (by) => {
    const el = document.querySelector("#list .count");
    const m = el && plainView() ? el.textContent.match(/^(\d+) rows?/) : null;
    if (!m) return;
    const n = Number(m[1]) + by;
    el.textContent = n + (n === 1 ? " row" : " rows");
  };

  function onListChange(msg) {
    const tbody = document.querySelector("#list tbody");
    if (!tbody) return;
    if (msg.oldKey) document.getElementById("row-" + msg.oldKey)?.remove();
    const tr = document.getElementById("row-" + msg.key);
    if (msg.op === "delete" && !plainView()) {
      // The count, the facets and the totals of this view are the server's.
      tr?.classList.add("gone");
      refetchList(msg.key);
      return;
    }
    if (msg.op === "delete") {
      bumpCount(-1);
      if (tr) {
        tr.classList.add("gone");
        setTimeout(() => tr.remove(), 600);
      }
      return;
    }
    if (!msg.row) return;
    if (!plainView()) {
      // Whether a row belongs in a sorted, filtered, searched or later page,
      // and where, is the server's to say: this view asks for itself again
      // (once for a burst of changes), and the new rows are highlighted.
      refetchList(msg.key);
      return;
    }
    const fresh = parse(msg.row);
    if (tr) {
      tr.replaceWith(fresh);
      flash(fresh);
      return;
    }
    if (msg.op !== "insert" && !msg.oldKey) return;
    if (msg.op === "insert") bumpCount(1);
    tbody.querySelector("td.empty")?.parentElement?.remove();
    tbody.prepend(fresh);
    flash(fresh);
  }

  // The keys changed since the last re-fetch of a non-plain list view, and
  // the timer that coalesces a burst of changes into one request. The delay
  // is jittered so that many screens do not ask at the same instant.
  const changedKeys = new Set();
  let refetchTimer = null;
  function refetchList(key) {
    changedKeys.add(key);
    if (refetchTimer) return;
    refetchTimer = setTimeout(async () => {
      refetchTimer = null;
      const keys = [...changedKeys];
      changedKeys.clear();
      await htmx.ajax("GET", location.pathname + location.search, { target: "#list", swap: "outerMorph" });
      for (const k of keys) {
        const row = document.getElementById("row-" + k);
        if (row) flash(row);
      }
    }, 100 + Math.random() * 300);
  }

  // A group-by page counts every row: a change re-counts it (once for a
  // burst of changes), the section replaced in place.
  // (Once for a burst: a section fetched again at most every few hundred ms.)
  function refetcher(selector) {
    let timer = null;
    return () => {
      if (timer) return;
      timer = setTimeout(async () => {
        timer = null;
        await htmx.ajax("GET", location.pathname + location.search, { target: selector, select: selector, swap: "outerMorph" });
      }, 100 + Math.random() * 300);
    };
  }
  const refetchGroups = refetcher("#groups");

  // A read's page (the SQL page, a stored query) runs its statement again
  // when a table it reads changes, or the schema does (a query that stops
  // compiling then says so in place).
  const refetchRead = refetcher("#result");
  function readsTable(el, table) {
    const tables = (el.dataset.tables || "").split(" ").filter(Boolean).map(decodeURIComponent);
    return tables.includes(table);
  }

  function onRowChange(msg, key, labelColumn) {
    const form = document.getElementById("record");
    if (!form) return;
    if (msg.key !== key && msg.oldKey !== key) return;
    const label = labelColumn && msg.values ? msg.values[labelColumn] : "";
    if (label) {
      const h1 = document.querySelector("main h1");
      if (h1) h1.textContent = label;
      const crumb = document.querySelector(".crumbs [aria-current=page]");
      if (crumb) crumb.textContent = label;
    }
    if (msg.op === "delete") {
      notice("nh-row-gone", "Someone else deleted this row. What you typed is still here; saving will say the row is gone.", "error");
      return;
    }
    if (msg.oldKey === key && msg.key !== key) {
      notice("nh-row-moved", "Someone else changed this row's key; it now lives at another address.", "warn");
    }
    document.body.dispatchEvent(new CustomEvent("nh-history")); // reload the history section
    if (!msg.values) return;
    let conflict = false;
    for (const el of fields(form)) {
      if (!(el.name in msg.values)) continue;
      const theirs = String(msg.values[el.name]);
      const mine = fieldValue(el);
      const untouched = mine === el.dataset.base;
      const box = el.closest(".field");
      box?.querySelector(".theirs")?.remove();
      if (untouched) {
        if (mine !== theirs) {
          setField(el, theirs);
          if (box) flash(box);
        }
        el.dataset.base = fieldValue(el);
      } else if (theirs !== el.dataset.base && theirs !== mine) {
        conflict = true;
        const p = document.createElement("p");
        p.className = "theirs";
        p.textContent = "Changed by someone else to: " + (theirs === "" ? "(empty)" : theirs);
        box?.append(p);
        box?.classList.add("conflicted");
      }
    }
    // Untouched fields now show their values; the person's own edits touch
    // other fields, so saving on top of the new version loses nobody's work.
    // When both changed one field, keep the old version: saving answers 409
    // and shows both values to choose from.
    if (!conflict && msg.version) {
      const v = form.querySelector("input[name=_version]");
      if (v) v.value = msg.version;
    }
  }

  // Each event is applied once, whatever reaches the page twice (a second
  // connection, a replayed backlog): ids only grow.
  let seen = 0;
  const firstTime = (ev) => {
    const id = Number(ev.detail?.id);
    if (id && id <= seen) return false;
    if (id) seen = id;
    return true;
  };

  document.addEventListener("nh-change", (ev) => {
    const el = live();
    if (!el || !firstTime(ev)) return;
    const msg = JSON.parse(ev.detail.data);
    if (el.dataset.view === "list") onListChange(msg);
    else if (el.dataset.view === "groups") refetchGroups();
    else if (el.dataset.view === "read" && readsTable(el, msg.table)) refetchRead();
    else if (el.dataset.view === "row") onRowChange(msg, el.dataset.key, el.dataset.labelColumn);
  });

  // The schema changed: patch this screen without a reload, keeping what the
  // person typed, under a renamed field's new name too.
  async function onSchema(msg) {
    const el = live();
    if (!el) return;
    document.querySelector("meta[name=nakedhtmx-dsid]")?.setAttribute("content", msg.dsid);
    const foot = document.querySelector(".foot code");
    if (foot) foot.textContent = msg.dsid;
    if (el.dataset.view === "read") {
      refetchRead();
      return;
    }
    let table = el.dataset.table;
    const mine = msg.changes.filter((c) => c.table === table || c.from === table);
    const gone = mine.find((c) => c.kind === "table-dropped" && c.table === table);
    if (gone) {
      notice("nh-schema", "This table was dropped from the database. Nothing more can be saved here; what you typed is still on screen.", "error");
      document.querySelectorAll("#record button[type=submit]").forEach((b) => (b.disabled = true));
      return;
    }
    const moved = mine.find((c) => c.kind === "table-renamed" && c.from === table);
    let url = location.pathname + location.search;
    if (moved) {
      const seg = "/t/" + encodeURIComponent(table);
      url = url.replace(seg, "/t/" + encodeURIComponent(moved.table));
      table = moved.table;
      el.dataset.table = table;
      history.replaceState(null, "", url);
    }
    const cols = mine.filter((c) => c.kind.startsWith("column-"));
    if (!moved && cols.length === 0) return;
    if (el.dataset.view === "groups") {
      refetchGroups();
      return;
    }
    if (el.dataset.view === "list") {
      await htmx.ajax("GET", url, { target: "#list", swap: "outerMorph" });
      notice("nh-schema", "The table's columns changed; the list shows them now.", "ok");
      return;
    }
    const form = document.getElementById("record");
    if (!form) return;
    const typed = {};
    for (const f of fields(form)) if (fieldValue(f) !== f.dataset.base) typed[f.name] = fieldValue(f);
    for (const c of cols) {
      if (c.kind === "column-renamed" && c.from in typed) {
        typed[c.column] = typed[c.from];
        delete typed[c.from];
      }
    }
    await htmx.ajax("GET", url, { target: "#record", swap: "outerMorph" });
    const fresh = document.getElementById("record");
    const lost = [];
    for (const [name, v] of Object.entries(typed)) {
      const f = fields(fresh).find((x) => x.name === name);
      if (f) {
        if (f.type === "checkbox") f.checked = v === "1";
        else f.value = v;
      } else lost.push(name + ": " + v);
    }
    let text = "The table's columns changed while you were editing; the form follows them and keeps what you typed.";
    if (lost.length) text += " These fields no longer exist; your input was: " + lost.join("; ");
    notice("nh-schema", text, lost.length ? "warn" : "ok");
  }

  document.addEventListener("nh-schema", (ev) => {
    if (!firstTime(ev)) return;
    onSchema(JSON.parse(ev.detail.data));
  });

  document.addEventListener("reset", () => {
    notice("nh-reset", "This page was away too long to catch up. Reload it to see the latest data.");
  });

  // A block of cells pasted on a list (a spreadsheet's copy is tab-separated
  // text) opens the import page's preview of it: nothing is written until
  // that page's Import. A first line that does not name the table's columns
  // is data, read as the columns the Import button lists, in order.
  document.addEventListener("paste", (ev) => {
    const imp = document.querySelector("a[data-paste-columns]");
    const t = ev.target;
    if (!imp || t.closest?.("input, textarea, select, [contenteditable]")) return;
    let text = ev.clipboardData?.getData("text/plain") ?? "";
    if (!text.includes("\t") && !text.trim().includes("\n")) return;
    ev.preventDefault();
    text = text.replace(/\r\n?/g, "\n").replace(/\n+$/, "");
    const columns = JSON.parse(imp.dataset.pasteColumns);
    const lower = new Set(columns.map((c) => c.toLowerCase()));
    const first = text.split("\n", 1)[0].split("\t");
    if (!first.every((c) => lower.has(c.trim().toLowerCase()))) {
      const width = Math.max(...text.split("\n").map((l) => l.split("\t").length));
      text = columns.slice(0, width).join("\t") + "\n" + text;
    }
    const form = document.createElement("form");
    form.method = "post";
    form.action = imp.getAttribute("href");
    for (const [k, v] of [["text", text], ["format", "tsv"], ["preview", "1"], ["conflict", "fail"]]) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = k;
      input.value = v;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
  });

  // A file larger than one request may carry is imported in parts
  // (/api/tables/T/imports): each part cut at a row's end (outside quotes),
  // CSV and TSV parts each with the file's header line, sent in turn with a
  // progress bar, then one commit writes every row in one transaction. Its
  // Preview reads the file's first rows only, shown in this page.
  const STAGE_AT = 4 << 20;
  const PART = 1 << 20;
  // The end of the last whole row of text (the end of the first, when first).
  const rowEnd = (text, delimited, first) => {
    let quoted = false;
    let end = -1;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 34 && delimited) quoted = !quoted; // a doubled quote flips twice
      else if (ch === 10 && !quoted) {
        end = i + 1;
        if (first) return end;
      }
    }
    return end;
  };
  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.staged) return;
    const file = form.querySelector("input[type=file]")?.files?.[0];
    if (!file || file.size <= STAGE_AT) return;
    ev.preventDefault();
    const chosen = form.elements.format.value;
    const format = chosen ||
      (/\.(tsv|tab)$/i.test(file.name) ? "tsv" : /\.(ndjson|jsonl)$/i.test(file.name) ? "ndjson" : "csv");
    const delimited = format !== "ndjson";
    const box = form.querySelector(".import-progress");
    const bar = box.querySelector("progress");
    const say = (text) => {
      box.hidden = false;
      box.querySelector("span").textContent = text;
    };
    const show = (html) => {
      for (const old of document.querySelectorAll("main section.preview, main section.notice")) old.remove();
      const doc = new DOMParser().parseFromString(html, "text/html");
      for (const s of doc.querySelectorAll("main section.preview, main section.notice")) form.after(document.adoptNode(s));
    };
    if (format === "json") {
      say("A JSON array this large cannot be read in parts: send it as NDJSON (one object per line).");
      return;
    }
    if (ev.submitter?.name === "preview") {
      const head = await file.slice(0, 256 << 10).text();
      const cut = rowEnd(head, delimited, false);
      const body = new FormData();
      for (const [k, v] of [["_dsid", form.elements._dsid.value], ["text", cut > 0 ? head.slice(0, cut) : head],
        ["format", format], ["conflict", form.elements.conflict.value], ["preview", "1"]]) body.append(k, v);
      show(await (await fetch(form.action, { method: "POST", body })).text());
      say(`The first rows of ${file.name} (${(file.size / 2 ** 20).toFixed(1)} MB); Import reads all of it.`);
      return;
    }
    const json = { "content-type": "application/json", accept: "application/json" };
    const fail = (j) => {
      const errs = (j.errors ?? []).map((e) => `Line ${e.line}${e.field ? ", " + e.field : ""}: ${e.message}`);
      show(`<main><section class="notice error" role="alert"><p></p><ul class="import-errors"></ul></section></main>`);
      const s = form.nextElementSibling;
      s.querySelector("p").textContent = j.error ?? "The import failed.";
      for (const t of errs) s.querySelector("ul").append(Object.assign(document.createElement("li"), { textContent: t }));
      say("Nothing was imported.");
    };
    let r = await fetch(form.dataset.staged, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ format, conflict: form.elements.conflict.value }),
    });
    let j = await r.json();
    if (!r.ok) return fail(j);
    const url = `${form.dataset.staged}/${j.id}`;
    const type = { csv: "text/csv", tsv: "text/tab-separated-values", ndjson: "application/x-ndjson" }[format];
    const decoder = new TextDecoder("utf-8", { fatal: true });
    let header = delimited ? null : "";
    let carry = "";
    let line = delimited ? 2 : 1;
    for (let at = 0; at < file.size;) {
      const bytes = await file.slice(at, at + PART).arrayBuffer();
      at += bytes.byteLength;
      let text;
      try {
        text = carry + decoder.decode(bytes, { stream: at < file.size });
      } catch {
        await fetch(url, { method: "DELETE", headers: json });
        return fail({ error: "The file is not valid UTF-8." });
      }
      if (header === null) {
        const h = rowEnd(text, true, true);
        if (h < 0) return fail({ error: "The file's first line, its header, never ends." });
        header = text.slice(0, h);
        text = text.slice(h);
      }
      const cut = at < file.size ? rowEnd(text, delimited, false) : text.length;
      const part = cut < 0 ? "" : text.slice(0, cut);
      carry = cut < 0 ? text : text.slice(cut);
      if (part.trim() !== "") {
        r = await fetch(`${url}?line=${line}`, { method: "POST", headers: { "content-type": type, accept: "application/json" }, body: header + part });
        j = await r.json();
        if (!r.ok) {
          await fetch(url, { method: "DELETE", headers: json });
          return fail(j);
        }
        line += part.split("\n").length - 1;
        say(`${j.staged.toLocaleString()} rows checked`);
      }
      bar.value = at / file.size;
    }
    say("Writing every row in one transaction…");
    bar.removeAttribute("value");
    r = await fetch(`${url}/commit`, { method: "POST", headers: json });
    j = await r.json();
    if (!r.ok) return fail(j);
    location.assign(form.dataset.done);
  });

  // htmx may process the page before its SSE extension has registered (both
  // load deferred), and then the stream never opens: look once the page has
  // settled, and wire the element again if it has no connection.
  window.addEventListener("load", () =>
    setTimeout(() => {
      const el = live();
      if (el && window.htmx && !el._htmx?.sse) htmx.process(el, true);
    }, 1000));

  // The offline service worker (PROTOCOL.md, "Offline"): registered when the
  // page names it, taken away when the page does not (the config said
  // "offline": false, or the host stopped serving it), so opting out also
  // reaches a browser that registered it before. Only our own worker is
  // touched: another script's registration under this origin is its own.
  const sw = navigator.serviceWorker;
  if (sw) {
    const want = document.querySelector("meta[name=nakedhtmx-offline]")?.content;
    const ours = (r) => (r.active || r.waiting || r.installing)?.scriptURL.split("?")[0].endsWith("/offline/sw.js");
    if (want) {
      const scope = want.slice(0, want.length - "offline/sw.js".length);
      sw.register(want, { scope, type: "module" }).catch(() => {});
      // A worker that takes this page over after it loaded missed its
      // navigation, which is what makes or catches up the copy: say the page
      // is here (sw.ts, "message").
      sw.addEventListener("controllerchange", () => sw.controller?.postMessage("nakedhtmx:page"));
      // Changes made offline that the server did not take as they were wait
      // for the person who made them: say so on every page, with the way there.
      if (sw.controller) {
        fetch(scope + "offline/status").then((r) => r.ok ? r.json() : null).then((s) => {
          if (!s || !(s.conflicts > 0)) return;
          const n = notice("nh-offline-conflicts", "", "error");
          n.append(`${s.conflicts} change${s.conflicts === 1 ? "" : "s"} made offline could not be saved as made. `);
          const a = document.createElement("a");
          a.href = scope + "offline/conflicts";
          a.textContent = "Review them";
          n.append(a);
        }, () => {});
      }
    } else {
      sw.getRegistrations().then((rs) => rs.filter(ours).forEach((r) => r.unregister()), () => {});
    }
  }
})();
