// Errors of the weight readers and writers. Every problem with a file's contents is a
// WeightsFileError whose message starts with the file's name and names the tensor or record at
// fault, so a user can tell a corrupt download from a bug without a debugger.

/** A weights file that cannot be read or written: corrupt, truncated, unsupported or unsafe. */
export class WeightsFileError extends Error {
  override name = 'WeightsFileError';
  constructor(
    /** The path (or `<bytes>` for in-memory data) the problem is in. */
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/**
 * A .pt pickle that asks for something a state dict never needs (a global such as `os.system`).
 * Loading stops before anything is called; its own class lets a server tell attacks from corruption.
 */
export class UnsafePickleError extends WeightsFileError {
  override name = 'UnsafePickleError';
}
