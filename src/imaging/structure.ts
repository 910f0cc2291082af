/**
 * Cheap structural checks of an upload, fed chunk by chunk as the bytes arrive (no extra read,
 * nothing decoded): a JPEG must reach its end marker, a PNG its IEND chunk, a WebP the length
 * its RIFF header declares, a GIF its trailer byte. A file cut short (an interrupted copy or
 * download) is refused at upload with a sentence, instead of failing later in the worker; the
 * worker's full decode stays the final word on everything else.
 */
export interface StructureCheck {
  push(chunk: Uint8Array): void;
  /** What is wrong with the file, as a sentence; undefined when its structure is whole. */
  finish(): string | undefined;
}

/** The check for a sniffed type; undefined where no cheap check exists (AVIF, TIFF: the header check is all). */
export function structureCheck(type: string): StructureCheck | undefined {
  switch (type) {
    case 'image/jpeg':
      return new JpegCheck();
    case 'image/png':
      return new PngCheck();
    case 'image/webp':
      return new WebpCheck();
    case 'image/gif':
      return new GifCheck();
    default:
      return undefined;
  }
}

const SOS = 0xda;
const EOI = 0xd9;
/** Markers that stand alone, without a length: SOI, TEM and the restart markers. */
const standalone = (code: number) => code === 0xd8 || code === 0x01 || (code >= 0xd0 && code <= 0xd7);

/**
 * Walks the JPEG's marker segments by their lengths (so a thumbnail inside EXIF, with an end
 * marker of its own, is skipped whole) and the entropy-coded data after each scan, where a 0xFF
 * is always followed by 0x00 or a restart marker unless a real marker begins. Bytes after the end
 * marker (some cameras append data there) are allowed, as decoders allow them.
 */
class JpegCheck implements StructureCheck {
  private state: 'marker' | 'code' | 'length' | 'skip' | 'entropy' | 'entropyCode' | 'done' = 'marker';
  private code = 0;
  private lengthBytes: number[] = [];
  private skip = 0;

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && this.state !== 'done') {
      switch (this.state) {
        case 'marker': {
          // Stray bytes between segments are skipped, as libjpeg does (with a warning).
          const next = chunk.indexOf(0xff, i);
          if (next < 0) return;
          i = next + 1;
          this.state = 'code';
          break;
        }
        case 'code': {
          const code = chunk[i++]!;
          if (code === 0xff) break; // fill byte
          if (code === EOI) this.state = 'done';
          else if (standalone(code)) this.state = 'marker';
          else this.beginSegment(code);
          break;
        }
        case 'length':
          this.lengthBytes.push(chunk[i++]!);
          if (this.lengthBytes.length === 2) {
            this.skip = Math.max(0, ((this.lengthBytes[0]! << 8) | this.lengthBytes[1]!) - 2);
            this.state = 'skip';
            if (this.skip === 0) this.endSegment();
          }
          break;
        case 'skip': {
          const take = Math.min(this.skip, chunk.length - i);
          this.skip -= take;
          i += take;
          if (this.skip === 0) this.endSegment();
          break;
        }
        case 'entropy': {
          const next = chunk.indexOf(0xff, i);
          if (next < 0) return;
          i = next + 1;
          this.state = 'entropyCode';
          break;
        }
        case 'entropyCode': {
          const code = chunk[i++]!;
          if (code === 0xff) break;
          if (code === 0x00 || (code >= 0xd0 && code <= 0xd7)) this.state = 'entropy';
          else if (code === EOI) this.state = 'done';
          else this.beginSegment(code);
          break;
        }
      }
    }
  }

  finish(): string | undefined {
    return this.state === 'done' ? undefined : 'the JPEG file is cut short: it ends before its end marker';
  }

  private beginSegment(code: number): void {
    this.code = code;
    this.lengthBytes = [];
    this.state = 'length';
  }

  private endSegment(): void {
    this.state = this.code === SOS ? 'entropy' : 'marker';
  }
}

/** Walks the PNG's chunks (length, type, data, CRC) from the signature to IEND. */
class PngCheck implements StructureCheck {
  private skip = 8; // the signature, already sniffed
  private header: number[] = [];
  private ended = false;

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && !this.ended) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, chunk.length - i);
        this.skip -= take;
        i += take;
        continue;
      }
      this.header.push(chunk[i++]!);
      if (this.header.length === 8) {
        const [a, b, c, d, ...type] = this.header as [number, number, number, number, ...number[]];
        if (String.fromCharCode(...type) === 'IEND') this.ended = true;
        this.skip = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
        this.skip += 4; // the CRC
        this.header = [];
      }
    }
  }

  finish(): string | undefined {
    return this.ended ? undefined : 'the PNG file is cut short: it ends before its IEND chunk';
  }
}

/** A WebP is one RIFF chunk whose header says how long it is. */
class WebpCheck implements StructureCheck {
  private head: number[] = [];
  private size = 0;

  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length && this.head.length < 8; i++) this.head.push(chunk[i]!);
    this.size += chunk.length;
  }

  finish(): string | undefined {
    if (this.head.length < 8) return 'the WebP file is cut short: it ends inside its header';
    const [, , , , a, b, c, d] = this.head as [number, number, number, number, number, number, number, number];
    const declared = (a | (b << 8) | (c << 16) | (d << 24)) >>> 0;
    if (this.size < declared + 8) return `the WebP file is cut short: it has ${this.size} of the ${declared + 8} bytes its header declares`;
    return undefined;
  }
}

/**
 * Walks the GIF's blocks: the screen descriptor and its colour table, then extensions and images
 * (each a run of length-prefixed sub-blocks) up to the trailer byte. Bytes after the trailer are
 * allowed; a block the walk does not know ends the check there (the decoder is the final word).
 */
class GifCheck implements StructureCheck {
  private readonly walk = new ByteWalk();
  private ended = false;

  constructor() {
    // Header (6) and logical screen descriptor (7), whose packed byte says if a global colour table follows.
    this.walk.read(13, (bytes) => this.walk.skip(colourTableBytes(bytes[10]!), () => this.block()));
  }

  push(chunk: Uint8Array): void {
    this.walk.push(chunk);
  }

  finish(): string | undefined {
    return this.ended ? undefined : 'the GIF file is cut short: it ends before its trailer';
  }

  private block(): void {
    this.walk.read(1, ([introducer]) => {
      if (introducer === 0x21) this.walk.skip(1, () => this.subBlocks());
      else if (introducer === 0x2c) this.walk.read(9, (descriptor) => this.walk.skip(colourTableBytes(descriptor[8]!) + 1, () => this.subBlocks()));
      else this.ended = true; // 0x3B, the trailer; or a block this walk does not know
    });
  }

  private subBlocks(): void {
    this.walk.read(1, ([size]) => (size === 0 ? this.block() : this.walk.skip(size!, () => this.subBlocks())));
  }
}

/** A colour table's length from a GIF packed byte: 3 * 2^(n+1) bytes when its top bit is set. */
function colourTableBytes(packed: number): number {
  return packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0;
}

/** Reads or skips a given number of bytes across chunk boundaries, then calls what comes next. */
class ByteWalk {
  private need = 0;
  private skipping = false;
  private bytes: number[] = [];
  private next: ((bytes: number[]) => void) | undefined;

  read(count: number, then: (bytes: number[]) => void): void {
    this.expect(count, false, then);
  }

  skip(count: number, then: () => void): void {
    this.expect(count, true, () => then());
  }

  push(chunk: Uint8Array): void {
    let i = 0;
    for (;;) {
      if (this.next && this.need === 0) {
        const then = this.next;
        this.next = undefined;
        then(this.bytes);
        continue;
      }
      if (!this.next || i >= chunk.length) return;
      if (this.skipping) {
        const take = Math.min(this.need, chunk.length - i);
        this.need -= take;
        i += take;
      } else {
        this.bytes.push(chunk[i++]!);
        this.need -= 1;
      }
    }
  }

  private expect(count: number, skipping: boolean, then: (bytes: number[]) => void): void {
    this.need = count;
    this.skipping = skipping;
    this.bytes = [];
    this.next = then;
  }
}
