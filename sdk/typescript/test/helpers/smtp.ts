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
  /** Every body text we could decode (raw, quoted-printable, base64 parts), for searching. */
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
          this.messages.push({ from, to, raw, text: decodeAll(raw) });
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

/** The `token` query parameter of the first link in the mail. */
export function tokenFrom(mail: ReceivedMail): string {
  const match = /[?&]token=([A-Za-z0-9_\-.~%]+)/.exec(mail.text);
  if (match?.[1] === undefined) throw new Error(`no ?token= link in the email:\n${mail.raw}`);
  return decodeURIComponent(match[1]);
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}

/** Raw text + QP-decoded + every base64 body block decoded: good enough to find a link. */
function decodeAll(raw: string): string {
  const parts = [raw, decodeQuotedPrintable(raw)];
  for (const block of raw.split(/\r?\n\r?\n/)) {
    const compact = block.replace(/\s+/g, "");
    if (compact.length >= 16 && /^[A-Za-z0-9+/]+=*$/.test(compact)) {
      parts.push(Buffer.from(compact, "base64").toString("utf8"));
    }
  }
  return parts.join("\n");
}
