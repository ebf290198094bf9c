/**
 * Reading a sysfs tree for parseSysfs: only the files it needs, missing ones left out. Kept apart
 * from the virsh reader so reading sysfs does not load execa.
 */
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CPU_DIR, CPU_TOPOLOGY_FILES, NODE_DIR, NODE_FILES, parseSysfs, type SysfsFiles } from '../topology/sysfs.js';
import type { HostTopology } from '../core/topology.js';

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOENT: not there; EINVAL/EIO/EPERM: some sysfs attributes refuse reads on some hardware.
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EINVAL' || code === 'EIO' || code === 'EPERM') return undefined;
    throw e;
  }
}

async function listMatching(dir: string, pattern: RegExp): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => pattern.test(n));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Collect the sysfs files parseSysfs needs from the tree under `root` (e.g. "/sys"). A node's
 * cpuN symlinks are recorded with their target as the value.
 */
export async function readSysfsFiles(root: string): Promise<SysfsFiles> {
  const nodeDir = join(root, NODE_DIR);
  const info = await stat(nodeDir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new Error(`${nodeDir} is not a directory: give the directory that holds devices/system/node (e.g. /sys)`);
  }
  const files: SysfsFiles = {};
  const put = async (rel: string) => {
    const text = await readIfExists(join(root, rel));
    if (text !== undefined) files[rel] = text;
  };
  for (const node of await listMatching(nodeDir, /^node\d+$/)) {
    const rel = `${NODE_DIR}/${node}`;
    await Promise.all(NODE_FILES.map((f) => put(`${rel}/${f}`)));
    for (const cpu of await listMatching(join(root, rel), /^cpu\d+$/)) {
      files[`${rel}/${cpu}`] = await readlink(join(root, rel, cpu)).catch(() => '');
    }
  }
  await put(`${CPU_DIR}/online`);
  for (const cpu of await listMatching(join(root, CPU_DIR), /^cpu\d+$/)) {
    const rel = `${CPU_DIR}/${cpu}`;
    await Promise.all([put(`${rel}/online`), ...CPU_TOPOLOGY_FILES.map((f) => put(`${rel}/topology/${f}`))]);
  }
  return files;
}

export async function readTopologyFromSysfs(root = '/sys'): Promise<HostTopology> {
  const t = parseSysfs(await readSysfsFiles(root));
  return root === '/sys' ? t : { ...t, source: `sysfs:${root}` };
}

