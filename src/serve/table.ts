// The models a server holds, by name and version: what the routes look up (404 naming what exists),
// with `/v2/models/{name}` meaning the highest version, as Triton's default version policy does.
import { notFound } from './errors.js';
import type { ServedModel } from './model.js';

export class ModelTable {
  readonly #byName = new Map<string, ServedModel[]>();

  constructor(readonly all: readonly ServedModel[]) {
    for (const m of all) {
      const list = this.#byName.get(m.name) ?? [];
      list.push(m);
      list.sort((a, b) => Number(a.version) - Number(b.version));
      this.#byName.set(m.name, list);
    }
  }

  /** Versions served under `name`, lowest first. */
  versions(name: string): string[] {
    return (this.#byName.get(name) ?? []).map((m) => m.version);
  }

  get(name: string, version?: string): ServedModel {
    const list = this.#byName.get(name);
    if (!list) throw notFound(`no model named '${name}' is served (models: ${[...this.#byName.keys()].join(', ')})`);
    const m = version === undefined ? list[list.length - 1] : list.find((x) => x.version === version);
    if (!m) throw notFound(`model '${name}' has no version '${version}' (versions: ${this.versions(name).join(', ')})`);
    return m;
  }

  get ready(): boolean {
    return this.all.every((m) => m.ready);
  }
}
