// Every page, in navigation order. KV cache (seed 001 page 4) joins this list when that
// capability exists; until then it is not offered.
import { overview, requests } from "./pages-live.js";
import { models, backends, chat, embeddings, costs } from "./pages-catalog.js";
import { resources, logs, audit, alerts, config } from "./pages-ops.js";
import { organization } from "./pages-org.js";
import { rateLimits } from "./pages-limits.js";

export const PAGES = [overview, requests, models, backends, chat, embeddings, costs, rateLimits, organization, resources, logs, audit, alerts, config];
