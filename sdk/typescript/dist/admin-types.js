"use strict";
/**
 * Types of the admin API, `/v7/{projectId}/admin/...` (docs/ADMIN.md). They mirror
 * `crates/latchkey-proto/src/admin.rs`, the server's own wire types.
 */
Object.defineProperty(exports, "__esModule", { value: true });
//# sourceMappingURL=admin-types.js.map