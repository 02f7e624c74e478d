"use strict";
/** Types of the Latchkey wire API (docs/API.md), as the SDK exposes them. */
Object.defineProperty(exports, "__esModule", { value: true });
//# sourceMappingURL=types.js.map