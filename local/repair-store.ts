import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * `npm run store:repair -- <folder>`: LevelDB's repair of a store the server refused as damaged
 * (a log cut short, a corrupt CURRENT or MANIFEST): it rebuilds the store from every whole
 * record it finds and drops the damaged ones. Copy the folder aside first. Refuses a store a
 * running server holds.
 */
interface RepairableLevel {
  open(): Promise<void>;
  close(): Promise<void>;
}
interface LevelClass {
  new (location: string): RepairableLevel;
  repair(location: string): Promise<void>;
}

const folder = process.argv[2];
if (folder === undefined || !existsSync(join(folder, 'CURRENT'))) {
  process.stderr.write(
    'usage: npm run store:repair -- <folder> (the store folder the server named, holding CURRENT)\n',
  );
  process.exit(1);
}
// dynalite's own LevelDB binding, so the repair speaks the format the store was written in.
const dynalite = createRequire(import.meta.url).resolve('dynalite');
const { Level } = createRequire(dynalite)('level') as { Level: LevelClass };

const probe = new Level(folder);
try {
  await probe.open();
  await probe.close();
} catch (error) {
  const cause = (error as Error).cause as { code?: string } | undefined;
  if (cause?.code === 'LEVEL_LOCKED') {
    process.stderr.write(
      `serverless-dcr: ${folder} is in use by a running server; stop it first\n`,
    );
    process.exit(1);
  }
}
await Level.repair(folder);
process.stdout.write(`repaired ${folder}: start the server again\n`);
