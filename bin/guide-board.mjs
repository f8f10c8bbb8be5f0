#!/usr/bin/env node
// libuv's thread pool runs every asynchronous file call. The storage layer lets each runs
// directory hold at most half of it (16 of 64), so a hung network mount leaves the rest free for
// other runs directories; a pool of 4 (Node's default) would allow 2 reads in flight per directory.
// Set before anything uses the pool (it starts on first use); an explicit value wins.
process.env.UV_THREADPOOL_SIZE ??= "64";
import { main } from "../dist/cli.js";

process.exitCode = await main({ args: process.argv.slice(2) });
