// The checks of verifier/static/ereg.js against the ereg/1 test vectors, shared by the Node test
// (ereg.test.js, with node:assert) and the Chromium page of tests/verifier/test_ereg_js.py (with the
// small assert below). Two sources of expected values:
//   vectorChecks(Ereg, V, assert): tests/documents/vectors/ereg1.json, every section of it;
//   caseChecks(Ereg, cases, assert): cases the Python reference computed at test time (documents
//     of documents.samples, tampered and malformed ones, canonical forms, CIDs, envelopes, ...).
// Each check is [name, async function]; a name starts with the key of what it checks
// ("ereg1.fields[3]", "cases.documents[12].text"), so the Python test can tell every vector ran.
(function (root, factory) {
  'use strict';
  const api = factory();
  if (typeof module === 'object' && module && module.exports) module.exports = api;
  else root.EregVectors = api;
}(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';

  // ------------------------------------------------------------------ a small assert for the browser
  function show(v) {
    try { return JSON.stringify(v); } catch (err) { return String(v); }
  }
  function same(a, b) {
    if (Object.is(a, b)) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
    if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && same(a[k], b[k]));
  }
  const miniAssert = {
    equal(actual, expected, message) {
      if (!Object.is(actual, expected)) throw new Error(`${message || 'not equal'}: ${show(actual)} !== ${show(expected)}`);
    },
    deepEqual(actual, expected, message) {
      if (!same(actual, expected)) throw new Error(`${message || 'not deep-equal'}: ${show(actual)} != ${show(expected)}`);
    },
    ok(value, message) {
      if (!value) throw new Error(message || `not truthy: ${show(value)}`);
    },
  };

  // ------------------------------------------------------------------ helpers
  const clone = (v) => JSON.parse(JSON.stringify(v));
  const hexOf = (Ereg, bytes) => `0x${Ereg.toHex(bytes)}`;
  const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

  /** Deterministic test bytes, the same formula as pattern_bytes() in test_ereg_js.py. */
  function patternBytes(n, seed) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (i * 7 + (i >>> 8) * 13 + seed * 31) & 0xff;
    return out;
  }

  /** The value at a JSON Pointer (RFC 6901) in `obj`. */
  function at(obj, pointer) {
    return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((node, key) => node[key], obj);
  }

  /** The error `fn` throws (sync or async); fails if it throws none. */
  async function thrown(assert, fn, what) {
    try {
      await fn();
    } catch (err) {
      return err;
    }
    assert.ok(false, `${what}: no error thrown`);
    return null;
  }

  /** An integrity result reduced to what the Python reference reports too. */
  const verdict = (r) => ({ code: r.code, pointer: r.pointer, targetHash: r.targetHash, merkleRoot: r.merkleRoot, leaf: r.leaf });

  // ------------------------------------------------------------------ ereg1.json
  function vectorChecks(Ereg, V, assert) {
    const checks = [];
    const add = (name, fn) => checks.push([name, fn]);
    const metadata = {
      '/@type': V.type,
      '/@validity': { validFrom: V.validity.validFrom, validUntil: V.validity.validUntil },
      '/@issuer': { department: V.issuer.department, chainId: V.issuer.chainId, registry: V.issuer.registry },
    };
    const valueOf = (pointer) => (pointer in metadata ? metadata[pointer] : at(V.record, pointer));

    add('ereg1.type: the document type is the document\'s', () => {
      assert.equal(V.document.type, V.type);
    });
    add('ereg1.typeId: keccak256(utf8(type))', () => {
      assert.equal(hexOf(Ereg, Ereg.keccak256(Ereg.utf8(V.type))), V.typeId);
    });
    add('ereg1.record: the document\'s data, with its fields in order', () => {
      assert.equal(Ereg.canonicalize(V.document.data), Ereg.canonicalize(V.record));
      const pointers = [...Ereg.fields(V.record).map((f) => f.pointer), ...Ereg.METADATA_POINTERS];
      assert.deepEqual(pointers, V.fields.map((f) => f.pointer));
    });
    add('ereg1.issuer: the document\'s issuer, a checksummed registry', () => {
      assert.equal(Ereg.canonicalize(V.document.issuer), Ereg.canonicalize(V.issuer));
      assert.ok(Ereg.isChecksumAddress(V.issuer.registry));
      assert.ok(!Ereg.isChecksumAddress(V.issuer.registry.toLowerCase()));
    });
    add('ereg1.validity: the document\'s validity', () => {
      assert.equal(Ereg.canonicalize(V.document.validity), Ereg.canonicalize(V.validity));
    });
    V.fields.forEach((f, i) => {
      add(`ereg1.fields[${i}]: ${f.pointer} JCS forms and field hash`, () => {
        assert.equal(Ereg.canonicalize(f.pointer), f.pointerJcs, 'JCS(pointer)');
        assert.equal(Ereg.canonicalize(valueOf(f.pointer)), f.valueJcs, 'JCS(value)');
        assert.equal(V.document.salts[f.pointer], f.salt, 'salt in the document');
        const salt = Ereg.fromHex(f.salt);
        assert.equal(hexOf(Ereg, Ereg.fieldHash(salt, f.pointer, valueOf(f.pointer))), f.fieldHash, 'fieldHash');
        const preimage = Ereg.concat(salt, Ereg.utf8(f.pointerJcs), Ereg.utf8(f.valueJcs));
        assert.equal(hexOf(Ereg, Ereg.keccak256(preimage)), f.fieldHash, 'keccak256 of the preimage');
      });
    });
    add('ereg1.sortedFieldHashes: the field hashes sorted as bytes', () => {
      const sorted = V.fields.map((f) => Ereg.fromHex(f.fieldHash))
        .sort((a, b) => (Ereg.toHex(a) < Ereg.toHex(b) ? -1 : 1)).map((h) => hexOf(Ereg, h));
      assert.deepEqual(sorted, V.sortedFieldHashes);
    });
    add('ereg1.targetHash: keccak256 of the sorted field hashes, in any input order', () => {
      const hashes = V.fields.map((f) => Ereg.fromHex(f.fieldHash));
      assert.equal(hexOf(Ereg, Ereg.targetHash(hashes)), V.targetHash);
      assert.equal(hexOf(Ereg, Ereg.targetHash([...hashes].reverse())), V.targetHash);
      assert.equal(hexOf(Ereg, Ereg.keccak256(Ereg.concat(...V.sortedFieldHashes.map(Ereg.fromHex)))), V.targetHash);
      assert.equal(Ereg.toHex(hashes[0]), V.fields[0].fieldHash.slice(2), 'targetHash() left its input alone');
    });
    add('ereg1.leaf: keccak256(0x00 ‖ targetHash)', () => {
      assert.equal(hexOf(Ereg, Ereg.leafOf(Ereg.fromHex(V.targetHash))), V.leaf);
    });
    V.batch.targetHashes.forEach((t, i) => {
      add(`ereg1.batch.targetHashes[${i}]: its leaf`, () => {
        assert.equal(hexOf(Ereg, Ereg.leafOf(Ereg.fromHex(t))), V.batch.leaves[i]);
      });
    });
    add('ereg1.batch.targetHashes: the document is the first of the batch', () => {
      assert.equal(V.batch.targetHashes[0], V.targetHash);
    });
    V.batch.leaves.forEach((leaf, i) => {
      add(`ereg1.batch.leaves[${i}]: from its target hash`, () => {
        assert.equal(hexOf(Ereg, Ereg.leafOf(Ereg.fromHex(V.batch.targetHashes[i]))), leaf);
      });
    });
    add('ereg1.batch.level1: sorted pair of leaves 0 and 1, leaf 2 promoted', () => {
      const [l0, l1, l2] = V.batch.leaves.map(Ereg.fromHex);
      assert.equal(hexOf(Ereg, Ereg.fold(l0, [l1])), V.batch.level1[0]);
      assert.equal(hexOf(Ereg, Ereg.fold(l1, [l0])), V.batch.level1[0], 'pairs are sorted');
      assert.equal(V.batch.level1[1], V.batch.leaves[2]);
      assert.equal(hexOf(Ereg, Ereg.fold(l2, [])), V.batch.leaves[2], 'an empty proof is the leaf');
    });
    add('ereg1.batch.root: from level 1', () => {
      const [n01, l2] = V.batch.level1.map(Ereg.fromHex);
      assert.equal(hexOf(Ereg, Ereg.fold(n01, [l2])), V.batch.root);
      assert.equal(V.document.proof.merkleRoot, V.batch.root);
    });
    V.batch.proofs.forEach((proof, i) => {
      add(`ereg1.batch.proofs[${i}]: folds leaf ${i} into the root, and only as given`, () => {
        const leaf = Ereg.fromHex(V.batch.leaves[i]);
        assert.equal(hexOf(Ereg, Ereg.fold(leaf, proof.map(Ereg.fromHex))), V.batch.root);
        if (proof.length > 1) {
          assert.ok(hexOf(Ereg, Ereg.fold(leaf, [...proof].reverse().map(Ereg.fromHex))) !== V.batch.root, 'reversed proof');
        }
        const bent = proof.map(Ereg.fromHex);
        if (bent.length) {
          bent[0] = Uint8Array.from(bent[0]);
          bent[0][31] ^= 1;
          assert.ok(hexOf(Ereg, Ereg.fold(leaf, bent)) !== V.batch.root, 'altered proof');
        }
      });
    });
    add('ereg1.batch.proofs: the document carries proof 0', () => {
      assert.deepEqual(V.document.proof.proof, V.batch.proofs[0]);
    });
    add('ereg1.document: intact as an object', () => {
      assert.deepEqual(verdict(Ereg.checkIntegrity(clone(V.document))),
        { code: 'OK', pointer: null, targetHash: V.targetHash, merkleRoot: V.batch.root, leaf: V.leaf });
    });
    add('ereg1.documentJcs: JCS of the document, and intact as JSON text and UTF-8 bytes', () => {
      assert.equal(Ereg.canonicalize(V.document), V.documentJcs);
      const parsed = Ereg.parseDocument(V.documentJcs);
      assert.equal(Ereg.canonicalize(parsed), V.documentJcs);
      assert.equal(Ereg.canonicalize(Ereg.parseDocument(Ereg.utf8(V.documentJcs))), V.documentJcs);
      const expected = { code: 'OK', pointer: null, targetHash: V.targetHash, merkleRoot: V.batch.root, leaf: V.leaf };
      assert.deepEqual(verdict(Ereg.checkIntegrity(V.documentJcs)), expected);
      assert.deepEqual(verdict(Ereg.checkIntegrity(Ereg.utf8(V.documentJcs))), expected);
      assert.deepEqual(verdict(Ereg.checkIntegrity(JSON.stringify(V.document, null, 2))), expected, 'pretty-printed');
    });
    add('ereg1.documentJcsSha256: SHA-256 of the canonical bytes', async () => {
      assert.equal(Ereg.toHex(await Ereg.sha256(Ereg.utf8(V.documentJcs))), V.documentJcsSha256);
    });
    add('ereg1.disclosure: hiding /idNumber keeps the target hash', () => {
      const [pointer] = V.disclosure.hide;
      const f = V.fields.find((x) => x.pointer === pointer);
      assert.equal(f.fieldHash, V.disclosure.obfuscated[0]);
      const doc = clone(V.document);
      delete doc.data[pointer.slice(1)];
      delete doc.salts[pointer];
      doc.privacy.obfuscated = V.disclosure.obfuscated;
      assert.deepEqual(verdict(Ereg.checkIntegrity(doc)),
        { code: 'OK', pointer: null, targetHash: V.targetHash, merkleRoot: V.batch.root, leaf: V.leaf });
      doc.privacy.obfuscated = [];
      assert.equal(Ereg.checkIntegrity(doc).code, 'TAMPERED', 'hidden without its hash');
    });
    add('ereg1.envelope.blob: opens to the canonical document', async () => {
      const E = V.envelope;
      assert.equal(E.associatedData, Ereg.VERSION);
      const blob = Ereg.fromHex(E.blob);
      assert.equal(Ereg.toHex(blob.subarray(0, 12)), E.nonce);
      assert.equal(Ereg.toHex(await Ereg.sha256(blob)), E.blobSha256);
      const plain = await Ereg.openEnvelope(Ereg.fromHex(E.key), blob);
      assert.equal(new TextDecoder('utf-8', { fatal: true }).decode(plain), V.documentJcs);
      assert.equal(Ereg.checkIntegrity(plain).code, 'OK');
    });
    add('ereg1.envelope.smallBlob: opens to the small plaintext', async () => {
      const E = V.envelope;
      const plain = await Ereg.openEnvelope(Ereg.fromHex(E.key), Ereg.fromHex(E.smallBlob));
      assert.equal(new TextDecoder().decode(plain), E.smallPlaintext);
      assert.equal(Ereg.fromHex(E.smallBlob).length, 12 + Ereg.utf8(E.smallPlaintext).length + 16);
    });
    add('ereg1.envelope.refused: wrong key, altered bytes, short blob, short key', async () => {
      const E = V.envelope;
      const key = Ereg.fromHex(E.key), blob = Ereg.fromHex(E.smallBlob);
      const codeOf = async (k, b) => (await thrown(assert, () => Ereg.openEnvelope(k, b), 'openEnvelope')).code;
      const otherKey = Uint8Array.from(key);
      otherKey[0] ^= 1;
      assert.equal(await codeOf(otherKey, blob), 'DECRYPTION_FAILED', 'other key');
      for (const index of [0, 12, blob.length - 1]) { // nonce, ciphertext, tag
        const bent = Uint8Array.from(blob);
        bent[index] ^= 0x80;
        assert.equal(await codeOf(key, bent), 'DECRYPTION_FAILED', `byte ${index} altered`);
      }
      assert.equal(await codeOf(key, blob.subarray(0, blob.length - 1)), 'DECRYPTION_FAILED', 'tag cut');
      assert.equal(await codeOf(key, blob.subarray(0, 27)), 'TRUNCATED', '27 bytes');
      assert.equal(await codeOf(key.subarray(0, 31), blob), 'BAD_KEY', '31-byte key');
      assert.equal(await codeOf(Ereg.concat(key, new Uint8Array(1)), blob), 'BAD_KEY', '33-byte key');
    });
    add('ereg1.qr: a raw CID, the URL carrying it and the key', () => {
      const Q = V.qr;
      assert.equal(Ereg.cidKind(Q.cid), 'raw');
      assert.equal(Q.key, V.envelope.key);
      assert.equal(Q.url, `${Q.baseUrl}/q/${Q.cid}#k=${b64url(Ereg.fromHex(Q.key))}`);
    });

    // Rejected documents derived from the vector document; the codes are the reference's
    // (docs/FORMAT.md §7), the Python cross-check in test_ereg_js.py covers the same kinds.
    const rejected = [
      ['a field value changed', (d) => { d.data.name = '李四'; }, 'TAMPERED', '/proof/targetHash'],
      ['a field added', (d) => { d.data.extra = 1; }, 'TAMPERED', '/data/extra'],
      ['a field removed', (d) => { delete d.data.name; }, 'TAMPERED', '/salts/~1name'],
      ['a field renamed', (d) => { d.data.nom = d.data.name; delete d.data.name; }, 'TAMPERED', '/data/nom'],
      ['a salt changed', (d) => { d.salts['/name'] = '00'.repeat(16); }, 'TAMPERED', '/proof/targetHash'],
      ['the type changed', (d) => { d.type = 'other-certificate'; }, 'TAMPERED', '/proof/targetHash'],
      ['the validity changed', (d) => { d.validity.validUntil = null; }, 'TAMPERED', '/proof/targetHash'],
      ['the chain id changed', (d) => { d.issuer.chainId = 1; }, 'TAMPERED', '/proof/targetHash'],
      ['a hash added to obfuscated', (d) => { d.privacy.obfuscated = [`0x${'aa'.repeat(32)}`]; }, 'TAMPERED', '/proof/targetHash'],
      ['another root', (d) => { d.proof.merkleRoot = `0x${'aa'.repeat(32)}`; }, 'PROOF_MISMATCH', '/proof/proof'],
      ['an empty proof', (d) => { d.proof.proof = []; }, 'PROOF_MISMATCH', '/proof/proof'],
      ['the proof reversed', (d) => { d.proof.proof.reverse(); }, 'PROOF_MISMATCH', '/proof/proof'],
      ['nothing disclosed', (d) => { d.data = {}; }, 'NOTHING_DISCLOSED', null],
      ['another version', (d) => { d.version = 'ereg/2'; }, 'MALFORMED', '/version'],
      ['a reserved data key', (d) => { d.data['@type'] = 'x'; }, 'MALFORMED', '/data/@type'],
      ['a registry not checksummed', (d) => { d.issuer.registry = d.issuer.registry.toLowerCase(); }, 'MALFORMED', '/issuer/registry'],
      ['an integer outside the safe range', (d) => { d.data.n = 2n ** 53n; }, 'MALFORMED', '/data/n'],
      ['an infinite number', (d) => { d.data.address.n = Infinity; }, 'MALFORMED', '/data/address/n'],
      ['an extra member', (d) => { d.extra = 1; }, 'MALFORMED', '/extra'],
      ['not an object', () => [], 'MALFORMED', ''],
    ];
    rejected.forEach(([what, mutate, code, pointer], i) => {
      add(`ereg1.document.rejected[${i}]: ${what} gives ${code}`, () => {
        const doc = clone(V.document);
        const replaced = mutate(doc);
        const r = Ereg.checkIntegrity(replaced === undefined ? doc : replaced);
        assert.deepEqual([r.code, r.pointer], [code, pointer]);
        assert.ok(r.message && r.messageZh, 'messages in both languages');
        const hashes = code === 'PROOF_MISMATCH' ? [V.targetHash, V.leaf] : [null, null];
        assert.deepEqual([r.targetHash, r.leaf], hashes);
      });
    });
    add('ereg1.document.unhashed: anchorTx and cid may change', () => {
      const doc = clone(V.document);
      doc.proof.anchorTx = `0x${'ab'.repeat(32)}`;
      doc.proof.cid = V.qr.cid;
      assert.equal(Ereg.checkIntegrity(doc).code, 'OK');
    });
    const texts = [
      ['a byte order mark', (t) => Ereg.concat(new Uint8Array([0xef, 0xbb, 0xbf]), Ereg.utf8(t))],
      ['a byte order mark in text', (t) => `\ufeff${t}`],
      ['bytes that are not UTF-8', (t) => Ereg.concat(Ereg.utf8(t.slice(0, -1)), new Uint8Array([0xff, 0x7d]))],
      ['a duplicate key', (t) => t.replace('"version":"ereg/1"', '"version":"ereg/1","version":"ereg/1"')],
      ['a trailing comma', (t) => `${t.slice(0, -1)},}`],
      ['extra data', (t) => `${t} {}`],
      ['NaN', (t) => t.replace('"a/b~c":1.5', '"a/b~c":NaN')],
      ['a cut text', (t) => t.slice(0, 100)],
    ];
    texts.forEach(([what, change], i) => {
      add(`ereg1.documentJcs.rejected[${i}]: ${what} is MALFORMED`, () => {
        const r = Ereg.checkIntegrity(change(V.documentJcs));
        assert.deepEqual([r.code, r.pointer], ['MALFORMED', '']);
        assert.ok(r.message && r.messageZh, 'messages in both languages');
      });
    });
    return checks;
  }

  // ------------------------------------------------------------------ cases from the Python reference
  function caseChecks(Ereg, cases, assert) {
    const checks = [];
    const add = (name, fn) => checks.push([name, fn]);
    (cases.documents || []).forEach((c, i) => {
      // the text with its long pad value put in (the size-limit cases), as padded() in test_ereg_js.py
      const text = () => (c.pad ? c.text.replace('"@PAD@"', JSON.stringify(c.pad.char.repeat(c.pad.count))) : c.text);
      const inputs = {
        text,
        bytes: () => (c.hex ? Ereg.fromHex(c.hex) : Ereg.utf8(text())),
        object: () => JSON.parse(text()),
      };
      for (const form of c.forms) {
        add(`cases.documents[${i}].${form}: ${c.name}`, () => {
          const r = Ereg.checkIntegrity(inputs[form]());
          assert.deepEqual(verdict(r), (form === 'bytes' && c.expectBytes) || c.expect);
          if (c.message !== undefined && !(form === 'bytes' && c.expectBytes)) {
            assert.deepEqual([r.message, r.messageZh], [c.message, c.messageZh]);
          }
          assert.ok(typeof r.message === 'string' && r.message && r.messageZh, 'messages in both languages');
        });
      }
    });
    (cases.canonical || []).forEach((c, i) => {
      add(`cases.canonical[${i}]: ${c.name}`, () => {
        if (c.jcs !== undefined) {
          assert.equal(Ereg.canonicalize(Ereg.parseDocument(c.text)), c.jcs);
          return;
        }
        let err = null;
        try {
          Ereg.canonicalize(Ereg.parseDocument(c.text));
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof Ereg.EregError, `expected ${c.error.code}, got ${err}`);
        assert.deepEqual([err.code, err.pointer], [c.error.code, c.error.pointer]);
      });
    });
    (cases.fieldHashes || []).forEach((c, i) => {
      add(`cases.fieldHashes[${i}]: ${c.name}`, () => {
        const value = Ereg.parseDocument(c.text);
        assert.equal(hexOf(Ereg, Ereg.fieldHash(Ereg.fromHex(c.salt), c.pointer, value)), c.hash);
      });
    });
    (cases.hashes || []).forEach((c, i) => {
      add(`cases.hashes[${i}]: keccak256 and sha256 of ${c.hex.length / 2} bytes`, async () => {
        const data = Ereg.fromHex(c.hex);
        assert.equal(Ereg.toHex(Ereg.keccak256(data)), c.keccak256, 'keccak256');
        assert.equal(Ereg.toHex(await Ereg.sha256(data)), c.sha256, 'sha256');
      });
    });
    (cases.fields || []).forEach((c, i) => {
      add(`cases.fields[${i}]: ${c.name}`, () => {
        const found = Ereg.fields(Ereg.parseDocument(c.text)).map((f) => [f.pointer, Ereg.canonicalize(f.value)]);
        assert.deepEqual(found, c.fields);
      });
    });
    (cases.merkle || []).forEach((c, i) => {
      add(`cases.merkle[${i}]: batch of ${c.leaves.length}`, () => {
        c.leaves.forEach((leaf, k) => {
          assert.equal(hexOf(Ereg, Ereg.leafOf(Ereg.fromHex(c.targets[k]))), leaf, `leaf ${k}`);
          assert.equal(hexOf(Ereg, Ereg.fold(Ereg.fromHex(leaf), c.proofs[k].map(Ereg.fromHex))), c.root, `proof ${k}`);
        });
      });
    });
    (cases.cids || []).forEach((c, i) => {
      add(`cases.cids[${i}]: ${c.name}`, async () => {
        const data = patternBytes(c.n, c.seed);
        assert.equal(await Ereg.cidOf(data, c.kind, c.options || undefined), c.cid, 'cidOf');
        if (c.options) return;
        assert.equal(Ereg.cidKind(c.cid), c.cid.startsWith('bafk') ? 'raw' : 'dag-pb', 'cidKind');
        assert.equal(await Ereg.checkCid(c.cid, data), true, 'checkCid');
        const bent = Uint8Array.from(data.length ? data : [0]);
        bent[bent.length - 1] ^= 1;
        assert.equal(await Ereg.checkCid(c.cid, bent), false, 'checkCid of other bytes');
      });
    });
    (cases.cidKinds || []).forEach((c, i) => {
      add(`cases.cidKinds[${i}]: ${c.name}`, async () => {
        assert.equal(Ereg.cidKind(c.text), c.kind);
        if (c.kind === null) assert.equal(await Ereg.checkCid(c.text, new Uint8Array(0)), false, 'checkCid');
      });
    });
    (cases.envelopes || []).forEach((c, i) => {
      add(`cases.envelopes[${i}]: ${c.name}`, async () => {
        const open = () => Ereg.openEnvelope(Ereg.fromHex(c.key), Ereg.fromHex(c.blob));
        if (c.error) {
          const err = await thrown(assert, open, 'openEnvelope');
          assert.equal(err.code, c.error);
        } else {
          assert.equal(Ereg.toHex(await open()), c.plain);
        }
      });
    });
    (cases.addresses || []).forEach((c, i) => {
      add(`cases.addresses[${i}]: ${c.text}`, () => {
        assert.equal(Ereg.isChecksumAddress(c.text), c.ok);
      });
    });
    return checks;
  }

  /** Run checks one after the other (the page's way): {passed: [names], failed: [{name, error}]}. */
  async function run(checks) {
    const passed = [], failed = [];
    for (const [name, fn] of checks) {
      try {
        await fn();
        passed.push(name);
      } catch (err) {
        failed.push({ name, error: String(err && err.stack ? err.stack : err) });
      }
    }
    return { passed, failed };
  }

  /** Everything, with the small assert: what the Chromium page runs. */
  const runAll = (Ereg, V, cases) => run([
    ...vectorChecks(Ereg, V, miniAssert),
    ...(cases ? caseChecks(Ereg, cases, miniAssert) : []),
  ]);

  return Object.freeze({ miniAssert, patternBytes, vectorChecks, caseChecks, run, runAll });
}));
