// A nakedhtmx plugin in AssemblyScript (docs/plugins.md), the twin of
// ../go/main.go: the same manifest, the same validator, the same answers.
// Built with the compiler from npm:
//
//   npx asc examples/plugins/assemblyscript/email.ts --outFile email.wasm \
//     --use abort=examples/plugins/assemblyscript/email/abort
//
// on the Extism plugin ABI through @extism/as-pdk. It needs no WASI.

import { Host, Memory } from "@extism/as-pdk";
import { error_set } from "@extism/as-pdk/lib/env";

const MANIFEST =
  '{"name":"email-check","version":"0.1.0","hooks":[{"kind":"validator","function":"check_email","column":"email"}]}';

const NOT_A_ROW = "the input is not the JSON of a row";

/** What an error of the runtime does: nothing printed (the host says the call trapped). */
function abort(message: string | null, file: string | null, line: u32, column: u32): void {
  unreachable();
}

function output(s: string): void {
  Host.output(Uint8Array.wrap(String.UTF8.encode(s)));
}

export function nakedhtmx_manifest(): i32 {
  output(MANIFEST);
  return 0;
}

export function check_email(): i32 {
  const r = new Reader(Host.inputString());
  const email = r.emailOfRow();
  if (r.bad) {
    error_set(Memory.allocateString(NOT_A_ROW).offset);
    return 1;
  }
  if (email !== null && !looksLikeEmail(email)) {
    output('{"errors":{"email":"is not an email address"}}');
  } else {
    output('{"errors":{}}');
  }
  return 0;
}

function looksLikeEmail(v: string): bool {
  const at = v.indexOf("@");
  return at > 0 && at != v.length - 1 && v.lastIndexOf("@") == at;
}

/** Just enough of a JSON reader to find row.email; anything malformed sets bad. */
class Reader {
  s: string;
  i: i32 = 0;
  bad: bool = false;
  constructor(s: string) {
    this.s = s;
  }

  /** The string at row.email of {"row": {...}}, or null when it is absent or not a string. */
  emailOfRow(): string | null {
    let found: string | null = null;
    this.objectEach((r: Reader, key: string): void => {
      if (key == "row" && r.peek() == 123) {
        r.objectEach((r: Reader, key: string): void => {
          if (key == "email" && r.peek() == 34) {
            r.found = r.str();
          } else {
            r.skip();
          }
        });
      } else {
        r.skip();
      }
    });
    found = this.found;
    this.ws();
    if (this.i != this.s.length) this.bad = true;
    return this.bad ? null : found;
  }

  found: string | null = null;

  ws(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c != 32 && c != 9 && c != 10 && c != 13) break;
      this.i++;
    }
  }

  peek(): i32 {
    this.ws();
    return this.i < this.s.length ? this.s.charCodeAt(this.i) : -1;
  }

  expect(c: i32): void {
    if (this.peek() != c) {
      this.bad = true;
      this.i = this.s.length;
      return;
    }
    this.i++;
  }

  objectEach(each: (r: Reader, key: string) => void): void {
    this.expect(123); // {
    if (this.peek() == 125) {
      this.i++;
      return;
    }
    while (!this.bad) {
      const key = this.str();
      this.expect(58); // :
      if (this.bad) return;
      each(this, key);
      const c = this.peek();
      this.i++;
      if (c == 125) return; // }
      if (c != 44) { // ,
        this.bad = true;
        return;
      }
    }
  }

  str(): string {
    this.expect(34); // "
    let out = "";
    while (!this.bad && this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i++);
      if (c == 34) return out;
      if (c == 92) { // a backslash escape
        const e = this.s.charCodeAt(this.i++);
        if (e == 110) out += "\n";
        else if (e == 116) out += "\t";
        else if (e == 114) out += "\r";
        else if (e == 98) out += "\b";
        else if (e == 102) out += "\f";
        else if (e == 117) {
          out += String.fromCharCode(<i32>parseInt(this.s.substr(this.i, 4), 16));
          this.i += 4;
        } else out += String.fromCharCode(e);
        continue;
      }
      out += String.fromCharCode(c);
    }
    this.bad = true;
    return out;
  }

  skip(): void {
    const c = this.peek();
    if (c == 34) {
      this.str();
    } else if (c == 123) {
      this.objectEach((r: Reader, key: string): void => r.skip());
    } else if (c == 91) { // [
      this.i++;
      if (this.peek() == 93) {
        this.i++;
        return;
      }
      while (!this.bad) {
        this.skip();
        const d = this.peek();
        this.i++;
        if (d == 93) return;
        if (d != 44) this.bad = true;
      }
    } else {
      // a number, true, false or null
      const start = this.i;
      while (this.i < this.s.length) {
        const d = this.s.charCodeAt(this.i);
        if (d == 44 || d == 125 || d == 93 || d == 32 || d == 9 || d == 10 || d == 13) break;
        this.i++;
      }
      const word = this.s.substring(start, this.i);
      if (word != "true" && word != "false" && word != "null" && isNaN(parseFloat(word))) this.bad = true;
    }
  }
}
