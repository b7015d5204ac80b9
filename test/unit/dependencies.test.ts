import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

// What a production install (`npm ci --omit=dev`) must hold: the packages the dcr-admin command
// and the deployed functions' sources import. Building, synthesizing, `npm start` and the tests
// need the development ones too (docs/architecture.md "Dependencies and why").

const root = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The npm packages the code reachable from `entryPoints` imports. */
async function packagesImportedBy(entryPoints: string[]): Promise<string[]> {
  const { metafile } = await build({
    absWorkingDir: root,
    entryPoints,
    bundle: true,
    write: false,
    outdir: 'out',
    format: 'esm',
    platform: 'node',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  const packages = new Set<string>();
  for (const input of Object.values(metafile.inputs)) {
    for (const { path, external } of input.imports) {
      if (!external || path.startsWith('node:')) continue;
      packages.add(
        path
          .split('/')
          .slice(0, path.startsWith('@') ? 2 : 1)
          .join('/'),
      );
    }
  }
  return [...packages].sort();
}

const functionEntries = readdirSync(`${root}lambdas/functions`).map(
  (name) => `lambdas/functions/${name}/handler.ts`,
);

describe('the runtime dependencies', () => {
  it('hold every package dcr-admin imports', async () => {
    const imported = await packagesImportedBy(['cli/dcr-admin.ts']);
    expect(imported.length).toBeGreaterThan(0);
    expect(imported.filter((name) => !(name in manifest.dependencies))).toEqual([]);
    expect(manifest.dependencies.esbuild).toBeDefined(); // bundles the CLI and `npm start`
  });

  it("hold every package the deployed functions' sources import", async () => {
    const imported = await packagesImportedBy(functionEntries);
    expect(imported).toContain('@aws-sdk/client-dynamodb');
    expect(imported.filter((name) => !(name in manifest.dependencies))).toEqual([]);
  });

  it('leave the stack, the local server and its store to the development install', async () => {
    const imported = await packagesImportedBy([...functionEntries, 'cli/dcr-admin.ts']);
    for (const name of ['aws-cdk-lib', 'constructs', 'tsx', 'dynalite']) {
      expect(imported).not.toContain(name);
      expect(manifest.dependencies).not.toHaveProperty(name);
      expect(manifest.devDependencies).toHaveProperty(name);
    }
  });
});

describe('the AWS clients the functions bundle', () => {
  // Their bundles leave the SDK's event-stream codec out (lib/constructs/deployed-lambda.ts): the
  // SDK loads it only for a streaming member (an event stream), so none of them may have one.
  // A client's schemas give a member's uncommon traits by name: an event stream is a member
  // with the `streaming` trait.
  it('have no streaming member', async () => {
    const clients = (await packagesImportedBy(functionEntries)).filter((name) =>
      name.startsWith('@aws-sdk/client-'),
    );
    expect(clients).toContain('@aws-sdk/client-kms');
    for (const client of clients) {
      const schemas = join(root, 'node_modules', client, 'dist-es', 'schemas');
      const text = readdirSync(schemas)
        .map((file) => readFileSync(join(schemas, file), 'utf8'))
        .join('\n');
      expect(text, client).toContain('"error"'); // traits beyond the common few go by name
      expect(text, client).not.toMatch(/["']streaming["']/);
    }
  });
});
