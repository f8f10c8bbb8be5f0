// Embedding the guide-board adapter in an existing h3 app, next to your own routes.
// Run: node examples/embed-h3/server.mjs   (after `npm run build` in this repository,
// or with `guide-board` and `h3` installed in your project)
import { H3, serve } from "h3";
import { createRunIndex } from "guide-board";
import { createGuideBoardApp } from "guide-board/h3";

const runsDir = process.env.GUIDE_BOARD_RUNS_DIR ?? "examples/runs";
const index = createRunIndex({ runsDir }); // answers listings from memory and stays fresh

const app = new H3()
  .get("/", () => ({ app: "my app", runs: "/runs-api/" }))
  .mount("/runs-api", createGuideBoardApp({ runsDir, index, ui: true }));

serve(app, { port: Number(process.env.PORT ?? 3000), hostname: "127.0.0.1" });
// Open http://127.0.0.1:3000/runs-api/ for the run browser,
// or GET /runs-api/retained-runs/latest?status=failed for JSON.
