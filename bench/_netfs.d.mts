/** A mounted network file system (see bench/_netfs.mjs). */
export interface NetfsMount {
  /** Where the source folder is mounted. */
  mount: string;
  source: string;
  /** The storage server stops answering: file calls on the mount block. */
  hang(): Promise<void>;
  /** It answers again; held calls complete. */
  resume(): Promise<void>;
  /** Unmounts (lazily, so even a hung mount goes) and stops sshd and the relay. */
  down(): Promise<void>;
  downSync(): void;
}

/** Why a network mount cannot be made here, in one line; `null` when it can. */
export function netfsMissing(): string | null;

/** Mounts `source` over SFTP on loopback through a relay adding `delayMs` each way. */
export function mountNetfs(options: { source: string; delayMs?: number; options?: string[] }): Promise<NetfsMount>;
