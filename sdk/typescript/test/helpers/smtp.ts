/**
 * A minimal SMTP receiver on loopback (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA, RSET,
 * NOOP, QUIT; no TLS, no auth), so tests read the REAL emails Latchkey sends. Zero dependencies.
 */

import { createServer, type Server, type Socket } from "node:net";

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw message (headers + body) as sent, dot-unstuffed. */
  raw: string;
  /** The decoded text/plain part (or the whole body of a single-part message). */
  text: string;
}

export class SmtpSink {
  readonly messages: ReceivedMail[] = [];
  #server: Server;
  #sockets = new Set<Socket>();
  #waiters: Array<() => void> = [];
  port = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<SmtpSink> {
    const sink = new SmtpSink(createServer());
    sink.#server.on("connection", (socket) => sink.#session(socket));
    await new Promise<void>((resolve) => sink.#server.listen(0, "127.0.0.1", resolve));
    const address = sink.#server.address();
    sink.port = typeof address === "object" && address !== null ? address.port : 0;
    return sink;
  }

  #session(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.setEncoding("utf8");
    let buffer = "";
    let inData = false;
    let from = "";
    let to: string[] = [];
    const reply = (line: string): void => {
      socket.write(`${line}\r\n`);
    };
    reply("220 latchkey-test-sink ESMTP");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      for (;;) {
        if (inData) {
          const end = buffer.indexOf("\r\n.\r\n");
          const atStart = buffer.startsWith(".\r\n");
          if (end < 0 && !atStart) return;
          const body = atStart ? "" : buffer.slice(0, end);
          buffer = atStart ? buffer.slice(3) : buffer.slice(end + 5);
          inData = false;
          const raw = body
            .split("\r\n")
            .map((l) => (l.startsWith("..") ? l.slice(1) : l))
            .join("\r\n");
          this.messages.push({ from, to, raw, text: plainText(raw) });
          from = "";
          to = [];
          reply("250 2.0.0 queued");
          for (const wake of this.#waiters.splice(0)) wake();
          continue;
        }
        const newline = buffer.indexOf("\r\n");
        if (newline < 0) return;
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO") {
          socket.write("250-latchkey-test-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n");
        } else if (verb === "HELO") reply("250 latchkey-test-sink");
        else if (verb === "MAIL") {
          from = /<([^>]*)>/.exec(line)?.[1] ?? "";
          reply("250 2.1.0 ok");
        } else if (verb === "RCPT") {
          to.push(/<([^>]*)>/.exec(line)?.[1] ?? "");
          reply("250 2.1.5 ok");
        } else if (verb === "DATA") {
          inData = true;
          reply("354 end with <CRLF>.<CRLF>");
        } else if (verb === "RSET") {
          from = "";
          to = [];
          reply("250 ok");
        } else if (verb === "NOOP") reply("250 ok");
        else if (verb === "QUIT") {
          reply("221 bye");
          socket.end();
          return;
        } else reply("502 5.5.2 not implemented");
      }
    });
  }

  /** Waits for a message to `recipient` matching `predicate` (checks already-received ones first). */
  async waitFor(
    recipient: string,
    predicate: (mail: ReceivedMail) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<ReceivedMail> {
    const deadline = Date.now() + timeoutMs;
    const seen = new Set<ReceivedMail>();
    for (;;) {
      const found = this.messages.find(
        (m) => !seen.has(m) && m.to.some((t) => t.toLowerCase() === recipient.toLowerCase()) && predicate(m),
      );
      if (found !== undefined) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(`no email to ${recipient} within ${timeoutMs} ms (received ${this.messages.length})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 250));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** The first http(s) link with a `token` parameter in the mail's text, and that token. */
export function tokenFrom(mail: ReceivedMail): string {
  const link = mail.text.split(/\s+/).find((word) => /^https?:\/\//.test(word) && word.includes("token="));
  const token = link === undefined ? null : new URL(link).searchParams.get("token");
  if (token === null) throw new Error(`no link with a token in the email's text:\n${mail.raw}`);
  return token;
}

interface Part {
  headers: Map<string, string>;
  body: string;
}

/** Splits headers (unfolded, lower-cased names) from the body. */
function splitPart(text: string): Part {
  const end = text.search(/\r?\n\r?\n/);
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? "" : text.slice(end).replace(/^\r?\n\r?\n/, "");
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeBody(part: Part): string {
  const encoding = (part.headers.get("content-transfer-encoding") ?? "7bit").toLowerCase();
  if (encoding === "base64") return Buffer.from(part.body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (encoding === "quoted-printable") {
    const bytes = part.body
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return part.body;
}

/** The text/plain content of a message, walking multipart bodies (a small MIME reader). */
function plainText(raw: string): string {
  const walk = (part: Part): string | undefined => {
    const type = part.headers.get("content-type") ?? "text/plain";
    if (/^multipart\//i.test(type)) {
      const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
      if (boundary === undefined) return undefined;
      for (const chunk of part.body.split(`--${boundary}`).slice(1)) {
        if (chunk.startsWith("--")) break;
        const found = walk(splitPart(chunk.replace(/^\r?\n/, "")));
        if (found !== undefined) return found;
      }
      return undefined;
    }
    return /^text\/plain/i.test(type) ? decodeBody(part) : undefined;
  };
  return walk(splitPart(raw)) ?? "";
}
