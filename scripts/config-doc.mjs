#!/usr/bin/env node
// Rewrites config/README.md's key tables and config/numaplace.schema.json from the config table
// (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { configJsonSchema, withKeyTables } from '../dist/src/daemon/config-doc.js';

const readme = new URL('../config/README.md', import.meta.url);
writeFileSync(readme, withKeyTables(readFileSync(readme, 'utf8')));
writeFileSync(new URL('../config/numaplace.schema.json', import.meta.url), JSON.stringify(configJsonSchema(), null, 2) + '\n');
