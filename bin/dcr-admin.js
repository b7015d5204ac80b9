#!/usr/bin/env node
// The dcr-admin command: runs the TypeScript CLI through tsx (a dependency), no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/dcr-admin.ts');
process.exitCode = await main(process.argv.slice(2));
