#!/usr/bin/env node
// Rewrites config/README.md's key tables from the config table (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { withKeyTables } from '../dist/src/daemon/config-doc.js';

const path = new URL('../config/README.md', import.meta.url);
writeFileSync(path, withKeyTables(readFileSync(path, 'utf8')));
