import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The `stack` project's files first, then the local project's (vitest runs the projects in name
 * order, `local` first). Each stack file starts a whole stack (a worker thread per function)
 * and several wait on a clock (a key rotation waits out a token lifetime): started first, they
 * overlap with the many short local files, which then fill the workers to the end, instead of
 * a long stack file finishing alone. Within a project vitest's order stands (the longest of the
 * last run first, else the largest file first).
 */
export default class StackFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const stack = sorted.filter((file) => file.project.name === 'stack');
    return [...stack, ...sorted.filter((file) => file.project.name !== 'stack')];
  }
}
