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

/** Plain words for the I/O errors a user can do something about. */
const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its path is not a folder',
  EISDIR: 'it is a folder',
  EIO: 'an input/output error of the device',
  EMFILE: 'too many open files',
  EFBIG: 'the file is larger than allowed (ulimit -f?)',
};

/**
 * A file that could not be written, named by the path the caller asked for (not a temporary
 * file's): `cannot write runs/x/model.safetensors: no space left on the device (ENOSPC)`. The
 * system error is kept as `cause`, and its `code` is copied so callers can still test for it.
 */
export class FileWriteError extends Error {
  override name = 'FileWriteError';
  readonly code: string | undefined;
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    const why = code !== undefined && CAUSES[code] ? `${CAUSES[code]} (${code})` : (cause as Error)?.message ?? String(cause);
    super(`cannot write ${file}: ${why}`, { cause });
    this.code = code;
  }
}
