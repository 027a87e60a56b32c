/** SHA-256 of files and bytes (hex), for model identities in detector files and dumps. */
import { createHash } from 'node:crypto';
import { readRegularFile } from './file.js';

export function sha256Bytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** SHA-256 of a regular file's bytes (`argument` names it in errors). */
export function sha256File(path: string, argument: string = path): string {
  return sha256Bytes(readRegularFile(path, argument, 'a readable file'));
}
