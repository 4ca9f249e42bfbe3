// The one place that touches node-unrar-js (unrar 6.1.7 compiled to WASM).
// Import it only inside the extraction worker: its Emscripten glue installs
// process handlers that rethrow unhandled rejections, and its file I/O is
// synchronous. It also maps the library's failures onto stable ExtractError codes.
import { UnrarError } from 'node-unrar-js';
import { getUnrar } from 'node-unrar-js/dist/js/unrar.singleton.js';
import { ExtractError, ExtractErrorCode } from './unpacker.js';

/** The Emscripten module: one per worker, shared by the archives of one job. */
export type UnrarModule = { HEAPU8: Uint8Array; extractor: unknown };

export async function loadUnrar(): Promise<UnrarModule> {
  return (await getUnrar()) as UnrarModule;
}

export interface LibraryErrorContext {
  archive: string;
  /** a password was supplied and the archive has encrypted parts */
  triedPassword: boolean;
}

/** Turn anything the library throws into an ExtractError with a stable code. */
export function fromLibraryError(err: unknown, ctx: LibraryErrorContext): ExtractError {
  if (err instanceof ExtractError) return err;
  const details = { archive: ctx.archive, cause: err };
  if (err instanceof UnrarError) {
    const entry = err.file ? ` (entry "${err.file}")` : '';
    const at = `archive "${ctx.archive}"${entry}`;
    switch (err.reason) {
      case 'ERAR_MISSING_PASSWORD':
        return new ExtractError(ExtractErrorCode.Encrypted, `${at} is encrypted and no password was given`, details);
      case 'ERAR_BAD_PASSWORD':
        return new ExtractError(ExtractErrorCode.BadPassword, `${at}: the password is wrong`, details);
      case 'ERAR_BAD_DATA':
        // RAR 4 has no password check value: a wrong password shows up as bad data.
        return ctx.triedPassword
          ? new ExtractError(ExtractErrorCode.BadPassword, `${at}: wrong password, or the archive is damaged`, details)
          : new ExtractError(ExtractErrorCode.Damaged, `${at} is damaged (bad header or data)`, details);
      case 'ERAR_BAD_ARCHIVE':
      case 'ERAR_EREAD':
        return new ExtractError(ExtractErrorCode.Damaged, `${at} is damaged or truncated`, details);
      case 'ERAR_UNKNOWN_FORMAT':
        return new ExtractError(ExtractErrorCode.Unsupported, `${at} uses an unknown RAR format`, details);
      case 'ERAR_EOPEN':
        return new ExtractError(ExtractErrorCode.Unreadable, `${at} cannot be opened`, details);
      case 'ERAR_EREFERENCE':
        return new ExtractError(ExtractErrorCode.UnsafeEntry, `${at} refers to another file (file copy)`, details);
      case 'ERAR_NO_MEMORY':
        return new ExtractError(ExtractErrorCode.Failed, `${at}: not enough memory to extract`, details);
      default:
        return new ExtractError(ExtractErrorCode.Failed, `${at}: extraction failed (${err.reason})`, details);
    }
  }
  // The library's own bugs (TypeError "Cannot read properties of undefined" and the like).
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new ExtractError(ExtractErrorCode.Failed, `archive "${ctx.archive}": the RAR library failed (${what})`, details);
}
