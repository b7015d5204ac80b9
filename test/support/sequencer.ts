import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The two projects' files interleaved, the `stack` project's ahead (vitest runs the projects
 * in name order: every local file, then every stack file). Each stack file starts a whole stack
 * (a worker thread per function, CPU-heavy, some with 500 requests at once) and several wait on
 * a clock (a key rotation waits out a token lifetime): spread among the short local files, at
 * most one or two run at once, and the last of them start well before the end, so no long
 * stack file finishes alone. Within a project vitest's order stands (the longest of the last
 * run first, else the largest file first).
 */
export default class Interleaved extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const stack = sorted.filter((file) => file.project.name === 'stack');
    const local = sorted.filter((file) => file.project.name !== 'stack');
    const merged: TestSpecification[] = [];
    let s = 0;
    let l = 0;
    // The stack files go at one and a half times the local files' pace: done by two thirds.
    while (s < stack.length || l < local.length) {
      const stackBehind = s / stack.length <= (1.5 * l) / local.length;
      if (s < stack.length && (stackBehind || l === local.length))
        merged.push(stack[s++] as TestSpecification);
      else merged.push(local[l++] as TestSpecification);
    }
    return merged;
  }
}
