// Just enough of an HTML tokenizer to check the contract's HTML rules: start
// tags with their attributes (decoded), raw-text elements skipped whole, and the
// forms with the controls inside them. Not a full HTML5 parser, on purpose: the
// checks below must not depend on a parser that forgives what a browser forgives.

export interface Tag {
  name: string;
  attrs: Map<string, string>;
  /** Text up to the matching end tag for script, style, textarea and title. */
  raw?: string;
  start: number;
}

const RAW_TEXT = new Set(["script", "style", "textarea", "title"]);

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, e: string) => {
    if (e[0] === "#") {
      const n = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(n) ? String.fromCodePoint(n) : m;
    }
    const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };
    return named[e] ?? m;
  });
}

export function tags(html: string): Tag[] {
  const out: Tag[] = [];
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf("<", i);
    if (lt < 0) break;
    if (html.startsWith("<!--", lt)) {
      const end = html.indexOf("-->", lt + 4);
      i = end < 0 ? html.length : end + 3;
      continue;
    }
    const m = /^<([a-zA-Z][^\s/>]*)/.exec(html.slice(lt, lt + 64));
    if (!m) {
      i = lt + 1;
      continue;
    }
    const name = m[1].toLowerCase();
    let j = lt + m[0].length;
    const attrs = new Map<string, string>();
    // attributes: name, name=value, name="value", name='value'
    for (;;) {
      while (j < html.length && /\s|\//.test(html[j])) j++;
      if (j >= html.length || html[j] === ">") break;
      const an = /^[^\s"'>\/=]+/.exec(html.slice(j));
      if (!an) {
        j++;
        continue;
      }
      const attrName = an[0].toLowerCase();
      j += an[0].length;
      while (j < html.length && /\s/.test(html[j])) j++;
      let value = "";
      if (html[j] === "=") {
        j++;
        while (j < html.length && /\s/.test(html[j])) j++;
        const q = html[j];
        if (q === '"' || q === "'") {
          const end = html.indexOf(q, j + 1);
          value = html.slice(j + 1, end < 0 ? html.length : end);
          j = end < 0 ? html.length : end + 1;
        } else {
          const v = /^[^\s>]*/.exec(html.slice(j))![0];
          value = v;
          j += v.length;
        }
      }
      if (!attrs.has(attrName)) attrs.set(attrName, decodeEntities(value));
    }
    const tag: Tag = { name, attrs, start: lt };
    i = j + 1;
    if (RAW_TEXT.has(name)) {
      const close = html.toLowerCase().indexOf("</" + name, i);
      const end = close < 0 ? html.length : close;
      tag.raw = html.slice(i, end);
      i = end;
    }
    out.push(tag);
  }
  return out;
}

export interface Form {
  method: string;
  action: string;
  attrs: Map<string, string>;
  /** input, select, textarea and button tags inside the form, in order. */
  controls: Tag[];
}

export function forms(html: string): Form[] {
  const all = tags(html);
  const out: Form[] = [];
  const lower = html.toLowerCase();
  for (const t of all) {
    if (t.name !== "form") continue;
    const end = lower.indexOf("</form", t.start);
    const stop = end < 0 ? html.length : end;
    out.push({
      method: (t.attrs.get("method") ?? "get").toLowerCase(),
      action: canonPath(t.attrs.get("action") ?? ""),
      attrs: t.attrs,
      controls: all.filter((c) => c.start > t.start && c.start < stop &&
        (c.name === "input" || c.name === "select" || c.name === "textarea" || c.name === "button")),
    });
  }
  return out;
}

/** The names of the form's fields. */
export function fieldNames(f: Form): Set<string> {
  return new Set(f.controls.map((c) => c.attrs.get("name")).filter((n): n is string => n !== undefined));
}

/** The value a control shows: value attribute, textarea text, selected option. */
export function controlValue(html: string, f: Form, name: string): string | undefined {
  for (const c of f.controls) {
    if (c.attrs.get("name") !== name) continue;
    if (c.name === "textarea") return decodeEntities((c.raw ?? "").replace(/^\n/, ""));
    if (c.name === "select") {
      const end = html.toLowerCase().indexOf("</select", c.start);
      const inner = html.slice(c.start, end < 0 ? html.length : end);
      const opts = tags(inner).filter((t) => t.name === "option");
      const sel = opts.find((o) => o.attrs.has("selected"));
      return sel?.attrs.get("value");
    }
    if (c.attrs.get("type") === "hidden" && f.controls.some((o) => o !== c && o.attrs.get("name") === name)) continue;
    return c.attrs.get("value") ?? "";
  }
  return undefined;
}

/**
 * A URL's path in one canonical spelling: every segment, and every
 * comma-separated part of it, decoded and re-encoded with encodeURIComponent.
 * "%28" and "(" are the same path; a literal "," (the composite key separator)
 * and "%2C" are not. The query and fragment are kept as they are.
 */
export function canonPath(url: string): string {
  const cut = url.search(/[?#]/);
  const path = cut < 0 ? url : url.slice(0, cut);
  const rest = cut < 0 ? "" : url.slice(cut);
  const canon = path.split("/").map((seg) => seg.split(",").map((part) => {
    try {
      return encodeURIComponent(decodeURIComponent(part));
    } catch {
      return part;
    }
  }).join(",")).join("/");
  return canon + rest;
}

/** Every href in document order, paths in canonical spelling. */
export function hrefs(html: string): string[] {
  return tags(html).filter((t) => t.name === "a" && t.attrs.has("href")).map((t) => canonPath(t.attrs.get("href")!));
}

/** Row page links of one table (path prefix given), first occurrence order. */
export function rowLinks(html: string, prefix: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const h of hrefs(html)) {
    if (!h.startsWith(prefix)) continue;
    const rest = h.slice(prefix.length).split(/[?#]/)[0];
    if (rest === "" || rest.includes("/")) continue;
    if (!seen.has(rest)) {
      seen.add(rest);
      out.push(rest);
    }
  }
  return out;
}

// Strings from the fixture that must never reach a page as markup.
const RAW_MARKERS = [
  "<script>alert(", "<img src=x onerror", "<svg onload", "<b>x</b>", "</textarea><script>",
  "'><img", "\"><svg", "<here>",
];

const URL_ATTRS = new Set(["href", "src", "action", "formaction", "hx-get", "hx-post", "hx-put", "hx-patch",
  "hx-delete", "data", "poster", "xlink:href"]);

/**
 * Problems with one page's escaping: hostile names and values appear only as text,
 * every script comes from the server's own /assets/, no event handler or
 * javascript: URL appears in any attribute.
 */
export function escapingProblems(html: string, assetsPrefix = "/assets/"): string[] {
  const problems: string[] = [];
  for (const m of RAW_MARKERS) {
    const at = html.indexOf(m);
    if (at >= 0) problems.push(`raw markup ${JSON.stringify(m)} at ${at}: ${JSON.stringify(html.slice(Math.max(0, at - 60), at + 60))}`);
  }
  for (const t of tags(html)) {
    if (t.name === "script") {
      const src = t.attrs.get("src");
      if (src === undefined) {
        if (/alert\(/.test(t.raw ?? "")) problems.push(`inline script with data in it: ${JSON.stringify((t.raw ?? "").slice(0, 120))}`);
      } else if (!src.startsWith(assetsPrefix)) {
        problems.push(`script not from the server's assets: ${src}`);
      }
    }
    if (t.name === "link" && (t.attrs.get("rel") ?? "").includes("stylesheet")) {
      const href = t.attrs.get("href") ?? "";
      if (!href.startsWith(assetsPrefix)) problems.push(`stylesheet not from the server's assets: ${href}`);
    }
    for (const [k, v] of t.attrs) {
      // Handlers the app writes itself are its business; one carrying the
      // fixture's alert() came from data.
      if ((k.startsWith("on") || k.startsWith("hx-on")) && v.includes("alert(")) {
        problems.push(`event handler from data ${k}=${JSON.stringify(v)} on <${t.name}>`);
      }
      // data: is harmless in a favicon link or an image, not in a link or a script
      const scheme = /^[\s\u0000-\u001f]*([a-z][a-z0-9+.-]*):/i.exec(v)?.[1].toLowerCase();
      if (URL_ATTRS.has(k) && (scheme === "javascript" || scheme === "vbscript" ||
        (scheme === "data" && t.name !== "link" && t.name !== "img"))) {
        problems.push(`dangerous URL ${k}=${JSON.stringify(v)} on <${t.name}>`);
      }
    }
    if (!/^[a-z][a-z0-9-]*$/.test(t.name)) problems.push(`odd tag name <${t.name}>`);
  }
  return problems;
}

/** Problems with writing forms: each POST form carries the _dsid hidden input. */
export function dsidProblems(html: string, dsid: string): string[] {
  const problems: string[] = [];
  for (const f of forms(html)) {
    if (f.method !== "post" && !f.attrs.has("hx-post")) continue;
    const hidden = f.controls.find((c) => c.name === "input" && c.attrs.get("name") === "_dsid");
    if (!hidden) problems.push(`form ${f.action} has no _dsid input`);
    else if (hidden.attrs.get("type") !== "hidden") problems.push(`form ${f.action}: _dsid is not type=hidden`);
    else if (hidden.attrs.get("value") !== dsid) {
      problems.push(`form ${f.action}: _dsid is ${JSON.stringify(hidden.attrs.get("value"))}, want ${dsid}`);
    }
  }
  return problems;
}
