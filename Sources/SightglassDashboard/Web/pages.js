// Every page, in navigation order. Rate limits and KV cache (seed 001 pages 3 and 4) join this
// list when those capabilities exist; until then they are not offered.
import { overview, requests } from "./pages-live.js";
import { models, backends, chat, embeddings, costs } from "./pages-catalog.js";
import { resources, logs, audit, alerts, config } from "./pages-ops.js";
import { organization } from "./pages-org.js";

export const PAGES = [overview, requests, models, backends, chat, embeddings, costs, organization, resources, logs, audit, alerts, config];
