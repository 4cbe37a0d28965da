// Every page, in navigation order. Rate limits, KV cache and Organization (seed 001 pages 3, 4
// and 6) join this list when those capabilities exist; until then they are not offered.
import { overview, requests } from "./pages-live.js";
import { models, backends, chat, embeddings, costs } from "./pages-catalog.js";
import { resources, logs, audit, alerts, config } from "./pages-ops.js";

export const PAGES = [overview, requests, models, backends, chat, embeddings, costs, resources, logs, audit, alerts, config];
