/** The transport: one `fetch` per call, with the API key, a timeout and an abort signal. */
import type { CallOptions } from "./types";
export declare const SDK_VERSION = "0.1.0";
export declare const DEFAULT_TIMEOUT_MS = 10000;
export interface TransportConfig {
    baseUrl: string;
    projectId: string;
    apiKey: string;
    timeoutMs: number;
    fetch: typeof globalThis.fetch;
}
export type Method = "GET" | "POST" | "PATCH" | "DELETE";
export declare class Transport {
    #private;
    readonly baseUrl: string;
    readonly projectId: string;
    constructor(config: TransportConfig);
    /** `{baseUrl}/v7/{projectId}{path}` */
    projectUrl(path: string): string;
    /**
     * Sends one request and returns the parsed JSON body (undefined for 204). Any non-2xx
     * answer, timeout, abort or network failure rejects with a `LatchkeyError`.
     */
    request<T>(method: Method, url: string, body: unknown, options?: CallOptions): Promise<T>;
}
