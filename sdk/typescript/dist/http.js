"use strict";
/** The transport: one `fetch` per call, with the API key, a timeout and an abort signal. */
Object.defineProperty(exports, "__esModule", { value: true });
exports.Transport = exports.DEFAULT_TIMEOUT_MS = exports.SDK_VERSION = void 0;
const errors_1 = require("./errors");
exports.SDK_VERSION = "0.1.0";
exports.DEFAULT_TIMEOUT_MS = 10_000;
class Transport {
    baseUrl;
    projectId;
    #apiKey;
    #timeoutMs;
    #fetch;
    constructor(config) {
        this.baseUrl = config.baseUrl;
        this.projectId = config.projectId;
        this.#apiKey = config.apiKey;
        this.#timeoutMs = config.timeoutMs;
        this.#fetch = config.fetch;
    }
    /** `{baseUrl}/v7/{projectId}{path}` */
    projectUrl(path) {
        return `${this.baseUrl}/v7/${encodeURIComponent(this.projectId)}${path}`;
    }
    /**
     * Sends one request and returns the parsed JSON body (undefined for 204). Any non-2xx
     * answer, timeout, abort or network failure rejects with a `LatchkeyError`.
     */
    async request(method, url, body, options = {}) {
        const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
        const controller = new AbortController();
        let timedOut = false;
        const timer = timeoutMs > 0
            ? setTimeout(() => {
                timedOut = true;
                controller.abort();
            }, timeoutMs)
            : undefined;
        const external = options.signal;
        const onAbort = () => controller.abort();
        if (external?.aborted) {
            clearTimeout(timer);
            throw aborted(external.reason);
        }
        external?.addEventListener("abort", onAbort, { once: true });
        const headers = {
            Authorization: `Bearer ${this.#apiKey}`,
            "X-Replyke-Project-ID": this.projectId,
            Accept: "application/json",
            "User-Agent": `latchkey-node/${exports.SDK_VERSION}`,
        };
        const init = { method, headers, signal: controller.signal, redirect: "error" };
        if (body !== undefined) {
            headers["Content-Type"] = "application/json";
            init.body = JSON.stringify(body);
        }
        try {
            let response;
            let text;
            try {
                response = await this.#fetch(url, init);
                // Reading the body is part of the call: the timeout covers it too.
                text = await response.text();
            }
            catch (cause) {
                if (timedOut) {
                    throw new errors_1.LatchkeyError({
                        status: 0,
                        code: "client/timeout",
                        error: `request to ${url} timed out after ${timeoutMs} ms`,
                        cause,
                    });
                }
                if (external?.aborted)
                    throw aborted(external.reason);
                throw new errors_1.LatchkeyError({
                    status: 0,
                    code: "client/network-error",
                    error: `cannot reach Latchkey at ${url}: ${describe(cause)}`,
                    cause,
                });
            }
            return parse(response, text);
        }
        finally {
            clearTimeout(timer);
            external?.removeEventListener("abort", onAbort);
        }
    }
}
exports.Transport = Transport;
function aborted(reason) {
    return new errors_1.LatchkeyError({ status: 0, code: "client/aborted", error: "the request was aborted", cause: reason });
}
function describe(cause) {
    if (cause instanceof Error) {
        const inner = cause.cause;
        return inner instanceof Error ? `${cause.message} (${inner.message})` : cause.message;
    }
    return String(cause);
}
function parse(response, text) {
    let json = undefined;
    let parsed = false;
    if (text.length > 0) {
        try {
            json = JSON.parse(text);
            parsed = true;
        }
        catch {
            parsed = false;
        }
    }
    if (response.ok) {
        if (response.status === 204 || text.length === 0)
            return undefined;
        if (!parsed) {
            throw new errors_1.LatchkeyError({
                status: response.status,
                code: "client/invalid-response",
                error: "the server's answer is not JSON",
            });
        }
        return json;
    }
    const retryHeader = response.headers.get("retry-after");
    const retryAfter = retryHeader !== null && /^\d+$/.test(retryHeader.trim()) ? Number(retryHeader) : undefined;
    if (parsed && isErrorBody(json)) {
        return throwing(new errors_1.LatchkeyError({
            status: response.status,
            code: json.code,
            error: json.error,
            field: typeof json.field === "string" ? json.field : undefined,
            retryAfter,
        }));
    }
    return throwing(new errors_1.LatchkeyError({
        status: response.status,
        code: "client/invalid-response",
        error: `HTTP ${response.status} ${response.statusText} without a Latchkey error body`,
        retryAfter,
    }));
}
function throwing(error) {
    throw error;
}
function isErrorBody(value) {
    return (typeof value === "object" &&
        value !== null &&
        typeof value.error === "string" &&
        typeof value.code === "string");
}
//# sourceMappingURL=http.js.map