import type { TestResult } from "./model.ts";

/**
 * The position of each test's key in `tests`, filled on first use: a cold read that pages no
 * cursor and compares nothing never hashes its keys. Read-only.
 */
export class KeyPositions extends Map<string, number> {
  #tests: readonly TestResult[] | null;

  constructor(tests: readonly TestResult[]) {
    super();
    this.#tests = tests;
  }

  #fill(): void {
    const tests = this.#tests;
    if (tests === null) return;
    this.#tests = null;
    for (let i = 0; i < tests.length; i++) super.set(tests[i]!.key, i);
  }

  override get(key: string): number | undefined {
    this.#fill();
    return super.get(key);
  }
  override has(key: string): boolean {
    this.#fill();
    return super.has(key);
  }
  override get size(): number {
    this.#fill();
    return super.size;
  }
  override forEach(callback: (value: number, key: string, map: Map<string, number>) => void, self?: unknown): void {
    this.#fill();
    super.forEach(callback, self);
  }
  override entries(): MapIterator<[string, number]> {
    this.#fill();
    return super.entries();
  }
  override keys(): MapIterator<string> {
    this.#fill();
    return super.keys();
  }
  override values(): MapIterator<number> {
    this.#fill();
    return super.values();
  }
  override [Symbol.iterator](): MapIterator<[string, number]> {
    return this.entries();
  }
}
