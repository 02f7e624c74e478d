/** The transport: one `fetch` per call, with the API key, a timeout and an abort signal. */

import { LatchkeyError } from "./errors";
import type { CallOptions } from "./types";

export const SDK_VERSION = "0.1.0";
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface TransportConfig {
  baseUrl: string;
  projectId: string;
  apiKey: string;
  timeoutMs: number;
  fetch: typeof globalThis.fetch;
}

export type Method = "GET" | "POST" | "PATCH" | "DELETE";

export class Transport {
  readonly baseUrl: string;
  readonly projectId: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof globalThis.fetch;

  constructor(config: TransportConfig) {
    this.baseUrl = config.baseUrl;
    this.projectId = config.projectId;
    this.#apiKey = config.apiKey;
    this.#timeoutMs = config.timeoutMs;
    this.#fetch = config.fetch;
  }

  /** `{baseUrl}/v7/{projectId}{path}` */
  projectUrl(path: string): string {
    return `${this.baseUrl}/v7/${encodeURIComponent(this.projectId)}${path}`;
  }

  /**
   * Sends one request and returns the parsed JSON body (undefined for 204). Any non-2xx
   * answer, timeout, abort or network failure rejects with a `LatchkeyError`.
   */
  async request<T>(method: Method, url: string, body: unknown, options: CallOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, timeoutMs)
        : undefined;
    const external = options.signal;
    const onAbort = (): void => controller.abort();
    if (external?.aborted) {
      clearTimeout(timer);
      throw aborted(external.reason);
    }
    external?.addEventListener("abort", onAbort, { once: true });

    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.#apiKey}`,
      "X-Replyke-Project-ID": this.projectId,
      Accept: "application/json",
      "User-Agent": `latchkey-node/${SDK_VERSION}`,
    };
    const init: RequestInit = { method, headers, signal: controller.signal, redirect: "error" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }

    try {
      let response: Response;
      let text: string;
      try {
        response = await this.#fetch(url, init);
        // Reading the body is part of the call: the timeout covers it too.
        text = await response.text();
      } catch (cause) {
        if (timedOut) {
          throw new LatchkeyError({
            status: 0,
            code: "client/timeout",
            error: `request to ${url} timed out after ${timeoutMs} ms`,
            cause,
          });
        }
        if (external?.aborted) throw aborted(external.reason);
        throw new LatchkeyError({
          status: 0,
          code: "client/network-error",
          error: `cannot reach Latchkey at ${url}: ${describe(cause)}`,
          cause,
        });
      }
      return parse<T>(response, text);
    } finally {
      clearTimeout(timer);
      external?.removeEventListener("abort", onAbort);
    }
  }
}

function aborted(reason: unknown): LatchkeyError {
  return new LatchkeyError({ status: 0, code: "client/aborted", error: "the request was aborted", cause: reason });
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as Error & { cause?: unknown }).cause;
    return inner instanceof Error ? `${cause.message} (${inner.message})` : cause.message;
  }
  return String(cause);
}

function parse<T>(response: Response, text: string): T {
  let json: unknown = undefined;
  let parsed = false;
  if (text.length > 0) {
    try {
      json = JSON.parse(text);
      parsed = true;
    } catch {
      parsed = false;
    }
  }
  if (response.ok) {
    if (response.status === 204 || text.length === 0) return undefined as T;
    if (!parsed) {
      throw new LatchkeyError({
        status: response.status,
        code: "client/invalid-response",
        error: "the server's answer is not JSON",
      });
    }
    return json as T;
  }
  const retryHeader = response.headers.get("retry-after");
  const retryAfter = retryHeader !== null && /^\d+$/.test(retryHeader.trim()) ? Number(retryHeader) : undefined;
  if (parsed && isErrorBody(json)) {
    return throwing(
      new LatchkeyError({
        status: response.status,
        code: json.code,
        error: json.error,
        field: typeof json.field === "string" ? json.field : undefined,
        retryAfter,
      }),
    );
  }
  return throwing(
    new LatchkeyError({
      status: response.status,
      code: "client/invalid-response",
      error: `HTTP ${response.status} ${response.statusText} without a Latchkey error body`,
      retryAfter,
    }),
  );
}

function throwing(error: LatchkeyError): never {
  throw error;
}

function isErrorBody(value: unknown): value is { error: string; code: string; field?: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { error?: unknown }).error === "string" &&
    typeof (value as { code?: unknown }).code === "string"
  );
}
