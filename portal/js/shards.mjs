/**
 * Reading the published status shards (protocol page §13), without crypto:
 *
 *     /status/index.json  {"v": 1, "shards": N, "shard_bytes": S, "as_of": "YYYY-MM-DD"}
 *     /status/<i>.bin     "LXS1" || u32be(rows) || rows || zeros up to S
 *     row = lookup_id (16) || u16be(len) || sealed status || u8(n) || n × (u16be(len) || item)
 *
 * The items are sealed documents of any type (answers, records of what the reporter sent, ...).
 *
 * A token's shard is u32be(lookup_id[0..3]) mod N.
 */

const MAGIC = [0x4c, 0x58, 0x53, 0x31]; // "LXS1"

/** The shard data is not what the protocol describes. */
export class ShardError extends Error {
  constructor(message) {
    super(message);
    this.name = "ShardError";
  }
}

/**
 * Check status/index.json.
 * @param {any} index
 * @returns {{ shards: number, shardBytes: number, asOf: string }}
 */
export function checkIndex(index) {
  const ok = index?.v === 1 && Number.isSafeInteger(index.shards) && index.shards > 0
    && Number.isSafeInteger(index.shard_bytes) && typeof index.as_of === "string";
  if (!ok) throw new ShardError("status/index.json is not a version 1 index");
  return { shards: index.shards, shardBytes: index.shard_bytes, asOf: index.as_of };
}

/**
 * The shard that holds a lookup id.
 * @param {Uint8Array} lookupId 16 bytes
 * @param {number} shards
 */
export function shardOf(lookupId, shards) {
  const prefix = new DataView(lookupId.buffer, lookupId.byteOffset, 4).getUint32(0);
  return prefix % shards;
}

/**
 * Every row of `lookupId` in a shard, in shard order (usually none or one; a dummy row may share
 * the id by chance, so a reader tries each until one opens, as `lianxin.status` does).
 * @param {Uint8Array} shard
 * @param {Uint8Array} lookupId
 * @returns {{ status: Uint8Array, items: Uint8Array[] }[]}
 */
export function findRows(shard, lookupId) {
  if (shard.length < 8 || MAGIC.some((b, i) => shard[i] !== b)) {
    throw new ShardError("the shard is not Lianxin status data");
  }
  const view = new DataView(shard.buffer, shard.byteOffset, shard.byteLength);
  const rows = view.getUint32(4);
  let pos = 8;
  const need = (n) => {
    if (pos + n > shard.length) throw new ShardError("the shard is truncated");
  };
  const found = [];
  for (let r = 0; r < rows; r++) {
    need(18);
    const id = shard.subarray(pos, pos + 16);
    const size = view.getUint16(pos + 16);
    pos += 18;
    need(size + 1);
    const status = shard.subarray(pos, pos + size);
    pos += size;
    const count = shard[pos];
    pos += 1;
    const items = [];
    for (let a = 0; a < count; a++) {
      need(2);
      const length = view.getUint16(pos);
      need(2 + length);
      items.push(shard.subarray(pos + 2, pos + 2 + length));
      pos += 2 + length;
    }
    if (id.every((b, i) => b === lookupId[i])) {
      found.push({ status: status.slice(), items: items.map((x) => x.slice()) });
    }
  }
  return found;
}
