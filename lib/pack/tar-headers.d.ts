// tar-stream's header codec (its streams hand out a new Buffer per piece; pack files are read and
// written with reused buffers instead, tar-file.ts). Only what tar-file.ts uses.
declare module 'tar-stream/headers.js' {
  export interface TarHeader {
    name: string;
    mode: number;
    uid: number;
    gid: number;
    size: number;
    mtime: Date;
    type: string;
    linkname?: string | null;
  }
  export function encode(header: TarHeader): Buffer | null;
  export function decode(block: Buffer, filenameEncoding: string, allowUnknownFormat: boolean): TarHeader | null;
  export function encodePax(options: { name?: string }): Buffer;
  export function decodePax(data: Buffer): Record<string, string>;
}
