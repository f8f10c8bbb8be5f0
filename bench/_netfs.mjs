// A real network file system on loopback, for the stress test and the benchmarks: sshd on
// 127.0.0.1 (a free port, throwaway keys), a relay that adds delay and can stop answering
// (bench/_relay.mjs), and sshfs (FUSE) mounting a source folder through it. Files written to the
// source appear on the mount as another host's writes do: no file events, listings and
// attributes cached by the client. Needs root, /dev/fuse, sshfs and openssh-server.
import { execFileSync, fork, spawn, spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SSHD = "/usr/sbin/sshd";

/** Why a network mount cannot be made here, in one line; `null` when it can. */
export function netfsMissing() {
  if (process.platform !== "linux") return "network-mount tests need Linux (FUSE)";
  if (process.getuid?.() !== 0) return "network-mount tests need root (sshd for a throwaway login, FUSE)";
  try {
    accessSync("/dev/fuse", constants.R_OK | constants.W_OK);
  } catch {
    return "/dev/fuse is missing or closed: FUSE mounts are not possible here";
  }
  for (const tool of ["sshfs", "fusermount", "ssh-keygen"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed (apt-get install sshfs openssh-server)`;
  }
  if (!existsSync(SSHD)) return "sshd is not installed (apt-get install openssh-server)";
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

const live = new Set();
process.once("exit", () => {
  for (const mount of live) mount.downSync();
});

/**
 * Mounts `source` over SFTP through the relay. `delayMs` is added each way; `options` are extra
 * sshfs `-o` options (e.g. `dcache_timeout=1`). Returns the mount folder and `hang`, `resume`,
 * `down` (always unmounts, lazily, even when hung).
 */
export async function mountNetfs({ source, delayMs = 0.5, options = [] }) {
  const why = netfsMissing();
  if (why) throw new Error(why);
  const state = mkdtempSync(join(tmpdir(), "gb-netfs-"));
  const mount = join(state, "mnt");
  mkdirSync(mount);
  for (const name of ["host", "client"]) {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(state, name)], { stdio: "ignore" });
  }
  const sshdPort = await freePort();
  const relayPort = await freePort();
  writeFileSync(
    join(state, "sshd_config"),
    [
      "ListenAddress 127.0.0.1",
      `Port ${sshdPort}`,
      `HostKey ${join(state, "host")}`,
      `AuthorizedKeysFile ${join(state, "client.pub")}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "StrictModes no",
      "UsePAM no",
      `PidFile ${join(state, "sshd.pid")}`,
      "Subsystem sftp internal-sftp",
      "",
    ].join("\n"),
  );
  mkdirSync("/run/sshd", { recursive: true });
  const sshd = spawn(SSHD, ["-D", "-e", "-f", join(state, "sshd_config")], { stdio: "ignore" });
  const relay = fork(fileURLToPath(new URL("_relay.mjs", import.meta.url)), [relayPort, sshdPort, delayMs], {
    stdio: "ignore",
  });
  const ask = (message) =>
    new Promise((resolve) => {
      const on = (reply) => {
        if (reply === `${message}-done` || (message === "start" && reply === "ready")) {
          relay.off("message", on);
          resolve();
        }
      };
      relay.on("message", on);
      if (message !== "start") relay.send(message);
    });
  await ask("start");
  let mounted = false;
  const handle = {
    mount,
    source,
    hang: () => ask("hang"),
    resume: () => ask("resume"),
    downSync() {
      if (relay.connected) relay.send("resume");
      if (mounted) spawnSync("fusermount", ["-u", "-z", mount], { stdio: "ignore" });
      mounted = false;
      relay.kill("SIGKILL");
      sshd.kill("SIGTERM");
      rmSync(state, { recursive: true, force: true });
      live.delete(handle);
    },
    async down() {
      handle.downSync();
    },
  };
  live.add(handle);
  try {
    // sshd may take a moment to listen: a few tries.
    for (let attempt = 0; ; attempt++) {
      const result = spawnSync(
        "sshfs",
        [
          "-p",
          String(relayPort),
          `root@127.0.0.1:${source}`,
          mount,
          "-o",
          [
            `IdentityFile=${join(state, "client")}`,
            "StrictHostKeyChecking=no",
            "UserKnownHostsFile=/dev/null",
            "LogLevel=ERROR",
            "BatchMode=yes",
            ...options,
          ].join(","),
        ],
        { encoding: "utf8", timeout: 20_000 },
      );
      if (result.status === 0) break;
      if (attempt >= 20) throw new Error(`sshfs failed: ${(result.stderr || "").trim().split("\n")[0]}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    mounted = true;
  } catch (error) {
    handle.downSync();
    throw error;
  }
  return handle;
}
