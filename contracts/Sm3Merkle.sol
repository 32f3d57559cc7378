// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title SM3 (GB/T 32905) and the batch Merkle tree of the "ereg/1-sm" suite
/// @notice Stateless. The tree has the rules of the keccak tree with SM3 in place of keccak256:
/// leaf = SM3(0x00 ‖ targetHash), node = SM3(min(a, b) ‖ max(a, b)), proofs folded as
/// OpenZeppelin MerkleProof.processProof.
/// @dev 32-bit words live in 256-bit slots. A word that is rotated is kept doubled (x ‖ x in the
/// low 64 bits): rotating left by n is then one shr(32 - n). Sums and boolean functions are right
/// in the low 32 bits whatever the bits above, so only a word about to be doubled is masked.
/// The expanded message sits in memory one row of 64 bytes per round: W_j, then T_j <<< j.
contract Sm3Merkle {
    uint256 private constant _IV = 0x7380166f4914b2b9172442d7da8a0600a96f30bc163138aae38dee4db0fb0e4e;

    /// @dev Rows 0..67: W_j of the padding block of every 64-byte message (0x80, zeros, bit length
    /// 512), expanded once here; then T_j <<< j, with bit 255 set in rounds 0..15 (the loops read it
    /// as their end; a sum masks it off), and 0 after round 63. A copy with W_j overwritten serves
    /// any other block.
    bytes private constant _ROUNDS =
        // rounds 0..15: W_j, T_j <<< j with bit 255
        hex"0000000000000000000000000000000000000000000000000000000080000000"
        hex"8000000000000000000000000000000000000000000000000000000079cc4519"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"80000000000000000000000000000000000000000000000000000000f3988a32"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"80000000000000000000000000000000000000000000000000000000e7311465"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"80000000000000000000000000000000000000000000000000000000ce6228cb"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"800000000000000000000000000000000000000000000000000000009cc45197"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"800000000000000000000000000000000000000000000000000000003988a32f"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"800000000000000000000000000000000000000000000000000000007311465e"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"80000000000000000000000000000000000000000000000000000000e6228cbc"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"80000000000000000000000000000000000000000000000000000000cc451979"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"80000000000000000000000000000000000000000000000000000000988a32f3"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"80000000000000000000000000000000000000000000000000000000311465e7"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"800000000000000000000000000000000000000000000000000000006228cbce"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"80000000000000000000000000000000000000000000000000000000c451979c"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"8000000000000000000000000000000000000000000000000000000088a32f39"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"8000000000000000000000000000000000000000000000000000000011465e73"
        hex"0000000000000000000000000000000000000000000000000000000000000200"
        hex"80000000000000000000000000000000000000000000000000000000228cbce6"
        // rounds 16..63: W_j, T_j <<< j
        hex"0000000000000000000000000000000000000000000000000000000080404000"
        hex"000000000000000000000000000000000000000000000000000000009d8a7a87"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"000000000000000000000000000000000000000000000000000000003b14f50f"
        hex"0000000000000000000000000000000000000000000000000000000001008080"
        hex"000000000000000000000000000000000000000000000000000000007629ea1e"
        hex"0000000000000000000000000000000000000000000000000000000010005000"
        hex"00000000000000000000000000000000000000000000000000000000ec53d43c"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"00000000000000000000000000000000000000000000000000000000d8a7a879"
        hex"00000000000000000000000000000000000000000000000000000000002002a0"
        hex"00000000000000000000000000000000000000000000000000000000b14f50f3"
        hex"00000000000000000000000000000000000000000000000000000000ac545c04"
        hex"00000000000000000000000000000000000000000000000000000000629ea1e7"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"00000000000000000000000000000000000000000000000000000000c53d43ce"
        hex"0000000000000000000000000000000000000000000000000000000009582a39"
        hex"000000000000000000000000000000000000000000000000000000008a7a879d"
        hex"00000000000000000000000000000000000000000000000000000000a0003000"
        hex"0000000000000000000000000000000000000000000000000000000014f50f3b"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"0000000000000000000000000000000000000000000000000000000029ea1e76"
        hex"0000000000000000000000000000000000000000000000000000000000200280"
        hex"0000000000000000000000000000000000000000000000000000000053d43cec"
        hex"00000000000000000000000000000000000000000000000000000000a4515804"
        hex"00000000000000000000000000000000000000000000000000000000a7a879d8"
        hex"0000000000000000000000000000000000000000000000000000000020200040"
        hex"000000000000000000000000000000000000000000000000000000004f50f3b1"
        hex"0000000000000000000000000000000000000000000000000000000051609838"
        hex"000000000000000000000000000000000000000000000000000000009ea1e762"
        hex"0000000000000000000000000000000000000000000000000000000030005701"
        hex"000000000000000000000000000000000000000000000000000000003d43cec5"
        hex"00000000000000000000000000000000000000000000000000000000a0002000"
        hex"000000000000000000000000000000000000000000000000000000007a879d8a"
        hex"00000000000000000000000000000000000000000000000000000000008200aa"
        hex"00000000000000000000000000000000000000000000000000000000f50f3b14"
        hex"000000000000000000000000000000000000000000000000000000006ad525d0"
        hex"00000000000000000000000000000000000000000000000000000000ea1e7629"
        hex"000000000000000000000000000000000000000000000000000000000a0e0216"
        hex"00000000000000000000000000000000000000000000000000000000d43cec53"
        hex"00000000000000000000000000000000000000000000000000000000b0f52042"
        hex"00000000000000000000000000000000000000000000000000000000a879d8a7"
        hex"00000000000000000000000000000000000000000000000000000000fa7073b0"
        hex"0000000000000000000000000000000000000000000000000000000050f3b14f"
        hex"0000000000000000000000000000000000000000000000000000000020000000"
        hex"00000000000000000000000000000000000000000000000000000000a1e7629e"
        hex"00000000000000000000000000000000000000000000000000000000008200a8"
        hex"0000000000000000000000000000000000000000000000000000000043cec53d"
        hex"000000000000000000000000000000000000000000000000000000007a542590"
        hex"00000000000000000000000000000000000000000000000000000000879d8a7a"
        hex"0000000000000000000000000000000000000000000000000000000022a20044"
        hex"000000000000000000000000000000000000000000000000000000000f3b14f5"
        hex"00000000000000000000000000000000000000000000000000000000d5d6ebd2"
        hex"000000000000000000000000000000000000000000000000000000001e7629ea"
        hex"0000000000000000000000000000000000000000000000000000000082005771"
        hex"000000000000000000000000000000000000000000000000000000003cec53d4"
        hex"000000000000000000000000000000000000000000000000000000008a202240"
        hex"0000000000000000000000000000000000000000000000000000000079d8a7a8"
        hex"00000000000000000000000000000000000000000000000000000000b42826aa"
        hex"00000000000000000000000000000000000000000000000000000000f3b14f50"
        hex"00000000000000000000000000000000000000000000000000000000eaf84e59"
        hex"00000000000000000000000000000000000000000000000000000000e7629ea1"
        hex"000000000000000000000000000000000000000000000000000000004898eaf9"
        hex"00000000000000000000000000000000000000000000000000000000cec53d43"
        hex"000000000000000000000000000000000000000000000000000000008207283d"
        hex"000000000000000000000000000000000000000000000000000000009d8a7a87"
        hex"00000000000000000000000000000000000000000000000000000000ee6775fa"
        hex"000000000000000000000000000000000000000000000000000000003b14f50f"
        hex"00000000000000000000000000000000000000000000000000000000a3e0e0a0"
        hex"000000000000000000000000000000000000000000000000000000007629ea1e"
        hex"000000000000000000000000000000000000000000000000000000008828488a"
        hex"00000000000000000000000000000000000000000000000000000000ec53d43c"
        hex"0000000000000000000000000000000000000000000000000000000023b45a5d"
        hex"00000000000000000000000000000000000000000000000000000000d8a7a879"
        hex"00000000000000000000000000000000000000000000000000000000628a22c4"
        hex"00000000000000000000000000000000000000000000000000000000b14f50f3"
        hex"000000000000000000000000000000000000000000000000000000008d6d0615"
        hex"00000000000000000000000000000000000000000000000000000000629ea1e7"
        hex"0000000000000000000000000000000000000000000000000000000038300a7e"
        hex"00000000000000000000000000000000000000000000000000000000c53d43ce"
        hex"00000000000000000000000000000000000000000000000000000000e96260e5"
        hex"000000000000000000000000000000000000000000000000000000008a7a879d"
        hex"000000000000000000000000000000000000000000000000000000002b60c020"
        hex"0000000000000000000000000000000000000000000000000000000014f50f3b"
        hex"00000000000000000000000000000000000000000000000000000000502ed531"
        hex"0000000000000000000000000000000000000000000000000000000029ea1e76"
        hex"000000000000000000000000000000000000000000000000000000009e878cb9"
        hex"0000000000000000000000000000000000000000000000000000000053d43cec"
        hex"00000000000000000000000000000000000000000000000000000000218c38f8"
        hex"00000000000000000000000000000000000000000000000000000000a7a879d8"
        hex"00000000000000000000000000000000000000000000000000000000dcae3cb7"
        hex"000000000000000000000000000000000000000000000000000000004f50f3b1"
        hex"000000000000000000000000000000000000000000000000000000002a3e0e0a"
        hex"000000000000000000000000000000000000000000000000000000009ea1e762"
        hex"00000000000000000000000000000000000000000000000000000000e9e0c461"
        hex"000000000000000000000000000000000000000000000000000000003d43cec5"
        // W_64..W_67, for W'_60..W'_63
        hex"000000000000000000000000000000000000000000000000000000008c3e3831"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"0000000000000000000000000000000000000000000000000000000044aaa228"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"00000000000000000000000000000000000000000000000000000000dc60a38b"
        hex"0000000000000000000000000000000000000000000000000000000000000000"
        hex"00000000000000000000000000000000000000000000000000000000518300f7"
        hex"0000000000000000000000000000000000000000000000000000000000000000";

    /// @notice SM3 of `data`.
    function sm3(bytes calldata data) external pure returns (bytes32) {
        bytes memory rounds = _ROUNDS;
        uint256 w;
        uint256 buf;
        uint256 total;
        assembly ("memory-safe") {
            w := add(rounds, 32)
            let len := data.length
            total := and(add(len, 72), not(63)) // with 0x80 and the 8-byte length, in whole blocks
            buf := mload(0x40)
            calldatacopy(buf, calldatasize(), total) // zeros
            mstore(add(buf, sub(total, 32)), shl(3, len))
            calldatacopy(buf, data.offset, len)
            mstore8(add(buf, len), 0x80)
        }
        uint256 v = _IV;
        for (uint256 src = buf; src < buf + total; src += 64) {
            _load(w, src);
            _expand(w);
            v = _compress(v, w);
        }
        return bytes32(v);
    }

    /// @notice Whether `proof` places SM3(0x00 ‖ targetHash) under `root`.
    function verify(bytes32[] calldata proof, bytes32 root, bytes32 targetHash) external pure returns (bool) {
        bytes memory message = _ROUNDS;
        bytes memory padding = _ROUNDS;
        uint256 w;
        uint256 pad;
        uint256 buf;
        assembly ("memory-safe") {
            w := add(message, 32)
            pad := add(padding, 32)
            buf := mload(0x40)
            // The leaf's one block: 0x00, targetHash, 0x80, zeros, bit length 264.
            mstore(buf, shr(8, targetHash))
            mstore(add(buf, 32), or(shl(248, targetHash), or(shl(240, 0x80), 264)))
        }
        _load(w, buf);
        _expand(w);
        uint256 node = _compress(_IV, w);
        for (uint256 i = 0; i < proof.length; ++i) {
            uint256 sibling = uint256(proof[i]);
            assembly ("memory-safe") {
                switch lt(node, sibling)
                case 0 {
                    mstore(buf, sibling)
                    mstore(add(buf, 32), node)
                }
                default {
                    mstore(buf, node)
                    mstore(add(buf, 32), sibling)
                }
            }
            // 64 bytes: the pair's block, then the padding block, whose rows are ready.
            _load(w, buf);
            _expand(w);
            node = _compress(_compress(_IV, w), pad);
        }
        return bytes32(node) == root;
    }

    /// @dev W_0..W_15 (doubled) of the 64-byte block at `src` into the rows at `w`.
    function _load(uint256 w, uint256 src) private pure {
        assembly ("memory-safe") {
            mstore(w, mul(0x100000001, shr(224, mload(src))))
            mstore(add(w, 64), mul(0x100000001, shr(224, mload(add(src, 4)))))
            mstore(add(w, 128), mul(0x100000001, shr(224, mload(add(src, 8)))))
            mstore(add(w, 192), mul(0x100000001, shr(224, mload(add(src, 12)))))
            mstore(add(w, 256), mul(0x100000001, shr(224, mload(add(src, 16)))))
            mstore(add(w, 320), mul(0x100000001, shr(224, mload(add(src, 20)))))
            mstore(add(w, 384), mul(0x100000001, shr(224, mload(add(src, 24)))))
            mstore(add(w, 448), mul(0x100000001, shr(224, mload(add(src, 28)))))
            mstore(add(w, 512), mul(0x100000001, shr(224, mload(add(src, 32)))))
            mstore(add(w, 576), mul(0x100000001, shr(224, mload(add(src, 36)))))
            mstore(add(w, 640), mul(0x100000001, shr(224, mload(add(src, 40)))))
            mstore(add(w, 704), mul(0x100000001, shr(224, mload(add(src, 44)))))
            mstore(add(w, 768), mul(0x100000001, shr(224, mload(add(src, 48)))))
            mstore(add(w, 832), mul(0x100000001, shr(224, mload(add(src, 52)))))
            mstore(add(w, 896), mul(0x100000001, shr(224, mload(add(src, 56)))))
            mstore(add(w, 960), mul(0x100000001, shr(224, mload(add(src, 60)))))
        }
    }

    /// @dev W_16..W_67 (doubled) from W_0..W_15, four per pass:
    /// W_j = P1(W_j-16 ^ W_j-9 ^ (W_j-3 <<< 15)) ^ (W_j-13 <<< 7) ^ W_j-6.
    function _expand(uint256 w) private pure {
        assembly ("memory-safe") {
            for { let q := add(w, 1024) } lt(q, add(w, 4352)) { q := add(q, 256) } {
                {
                    let x := mul(0x100000001, and(0xffffffff,
                        xor(xor(mload(sub(q, 1024)), mload(sub(q, 576))), shr(17, mload(sub(q, 192))))))
                    mstore(q, mul(0x100000001, and(0xffffffff, xor(
                        xor(xor(x, shr(17, x)), shr(9, x)),
                        xor(shr(25, mload(sub(q, 832))), mload(sub(q, 384)))))))
                }
                {
                    let x := mul(0x100000001, and(0xffffffff,
                        xor(xor(mload(sub(q, 960)), mload(sub(q, 512))), shr(17, mload(sub(q, 128))))))
                    mstore(add(q, 64), mul(0x100000001, and(0xffffffff, xor(
                        xor(xor(x, shr(17, x)), shr(9, x)),
                        xor(shr(25, mload(sub(q, 768))), mload(sub(q, 320)))))))
                }
                {
                    let x := mul(0x100000001, and(0xffffffff,
                        xor(xor(mload(sub(q, 896)), mload(sub(q, 448))), shr(17, mload(sub(q, 64))))))
                    mstore(add(q, 128), mul(0x100000001, and(0xffffffff, xor(
                        xor(xor(x, shr(17, x)), shr(9, x)),
                        xor(shr(25, mload(sub(q, 704))), mload(sub(q, 256)))))))
                }
                {
                    let x := mul(0x100000001, and(0xffffffff,
                        xor(xor(mload(sub(q, 832)), mload(sub(q, 384))), shr(17, mload(q)))))
                    mstore(add(q, 192), mul(0x100000001, and(0xffffffff, xor(
                        xor(xor(x, shr(17, x)), shr(9, x)),
                        xor(shr(25, mload(sub(q, 640))), mload(sub(q, 192)))))))
                }
            }
        }
    }

    /// @dev The compression function of chaining value `v` (eight words, A first) with the rows
    /// at `p`: 64 rounds, eight per pass, the registers renamed instead of moved (after four rounds
    /// they are back in place). W'_j = W_j ^ W_j+4 is read from two rows.
    function _compress(uint256 v, uint256 p) private pure returns (uint256 r) {
        assembly ("memory-safe") {
            let a := mul(0x100000001, shr(224, v))
            let b := mul(0x100000001, and(0xffffffff, shr(192, v)))
            let c := shr(160, v)
            let d := shr(128, v)
            let e := mul(0x100000001, and(0xffffffff, shr(96, v)))
            let f := mul(0x100000001, and(0xffffffff, shr(64, v)))
            let g := shr(32, v)
            let h := v
            let q := p
            // Rounds 0..15: FF = GG = x ^ y ^ z.
            for {} 1 {} {
                {
                    let a12 := shr(20, a)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 32)), add(e, a12)))))
                    let w := mload(q)
                    d := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 256))),
                        add(xor(ss1, a12), add(d, xor(c, xor(b, a)))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(h, xor(g, xor(f, e))))))
                    h := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    b := shr(23, b)
                    f := shr(13, f)
                }
                {
                    let a12 := shr(20, d)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 96)), add(h, a12)))))
                    let w := mload(add(q, 64))
                    c := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 320))),
                        add(xor(ss1, a12), add(c, xor(b, xor(a, d)))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(g, xor(f, xor(e, h))))))
                    g := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    a := shr(23, a)
                    e := shr(13, e)
                }
                {
                    let a12 := shr(20, c)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 160)), add(g, a12)))))
                    let w := mload(add(q, 128))
                    b := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 384))),
                        add(xor(ss1, a12), add(b, xor(a, xor(d, c)))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(f, xor(e, xor(h, g))))))
                    f := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    d := shr(23, d)
                    h := shr(13, h)
                }
                {
                    let a12 := shr(20, b)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 224)), add(f, a12)))))
                    let w := mload(add(q, 192))
                    a := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 448))),
                        add(xor(ss1, a12), add(a, xor(d, xor(c, b)))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(e, xor(h, xor(g, f))))))
                    e := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    c := shr(23, c)
                    g := shr(13, g)
                }
                {
                    let a12 := shr(20, a)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 288)), add(e, a12)))))
                    let w := mload(add(q, 256))
                    d := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 512))),
                        add(xor(ss1, a12), add(d, xor(c, xor(b, a)))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(h, xor(g, xor(f, e))))))
                    h := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    b := shr(23, b)
                    f := shr(13, f)
                }
                {
                    let a12 := shr(20, d)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 352)), add(h, a12)))))
                    let w := mload(add(q, 320))
                    c := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 576))),
                        add(xor(ss1, a12), add(c, xor(b, xor(a, d)))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(g, xor(f, xor(e, h))))))
                    g := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    a := shr(23, a)
                    e := shr(13, e)
                }
                {
                    let a12 := shr(20, c)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 416)), add(g, a12)))))
                    let w := mload(add(q, 384))
                    b := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 640))),
                        add(xor(ss1, a12), add(b, xor(a, xor(d, c)))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(f, xor(e, xor(h, g))))))
                    f := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    d := shr(23, d)
                    h := shr(13, h)
                }
                {
                    let a12 := shr(20, b)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 480)), add(f, a12)))))
                    let w := mload(add(q, 448))
                    a := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 704))),
                        add(xor(ss1, a12), add(a, xor(d, xor(c, b)))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(e, xor(h, xor(g, f))))))
                    e := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    c := shr(23, c)
                    g := shr(13, g)
                }
                q := add(q, 512)
                if iszero(shr(255, mload(add(q, 32)))) { break }
            }
            // Rounds 16..63: FF = majority, GG = choice.
            for {} 1 {} {
                {
                    let a12 := shr(20, a)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 32)), add(e, a12)))))
                    let w := mload(q)
                    d := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 256))),
                        add(xor(ss1, a12), add(d, or(and(b, c), and(a, or(b, c))))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(h, xor(g, and(e, xor(f, g)))))))
                    h := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    b := shr(23, b)
                    f := shr(13, f)
                }
                {
                    let a12 := shr(20, d)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 96)), add(h, a12)))))
                    let w := mload(add(q, 64))
                    c := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 320))),
                        add(xor(ss1, a12), add(c, or(and(a, b), and(d, or(a, b))))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(g, xor(f, and(h, xor(e, f)))))))
                    g := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    a := shr(23, a)
                    e := shr(13, e)
                }
                {
                    let a12 := shr(20, c)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 160)), add(g, a12)))))
                    let w := mload(add(q, 128))
                    b := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 384))),
                        add(xor(ss1, a12), add(b, or(and(d, a), and(c, or(d, a))))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(f, xor(e, and(g, xor(h, e)))))))
                    f := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    d := shr(23, d)
                    h := shr(13, h)
                }
                {
                    let a12 := shr(20, b)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 224)), add(f, a12)))))
                    let w := mload(add(q, 192))
                    a := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 448))),
                        add(xor(ss1, a12), add(a, or(and(c, d), and(b, or(c, d))))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(e, xor(h, and(f, xor(g, h)))))))
                    e := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    c := shr(23, c)
                    g := shr(13, g)
                }
                {
                    let a12 := shr(20, a)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 288)), add(e, a12)))))
                    let w := mload(add(q, 256))
                    d := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 512))),
                        add(xor(ss1, a12), add(d, or(and(b, c), and(a, or(b, c))))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(h, xor(g, and(e, xor(f, g)))))))
                    h := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    b := shr(23, b)
                    f := shr(13, f)
                }
                {
                    let a12 := shr(20, d)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 352)), add(h, a12)))))
                    let w := mload(add(q, 320))
                    c := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 576))),
                        add(xor(ss1, a12), add(c, or(and(a, b), and(d, or(a, b))))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(g, xor(f, and(h, xor(e, f)))))))
                    g := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    a := shr(23, a)
                    e := shr(13, e)
                }
                {
                    let a12 := shr(20, c)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 416)), add(g, a12)))))
                    let w := mload(add(q, 384))
                    b := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 640))),
                        add(xor(ss1, a12), add(b, or(and(d, a), and(c, or(d, a))))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(f, xor(e, and(g, xor(h, e)))))))
                    f := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    d := shr(23, d)
                    h := shr(13, h)
                }
                {
                    let a12 := shr(20, b)
                    let ss1 := shr(25, mul(0x100000001, and(0xffffffff, add(mload(add(q, 480)), add(f, a12)))))
                    let w := mload(add(q, 448))
                    a := mul(0x100000001, and(0xffffffff, add(xor(w, mload(add(q, 704))),
                        add(xor(ss1, a12), add(a, or(and(c, d), and(b, or(c, d))))))))
                    w := mul(0x100000001, and(0xffffffff, add(add(w, ss1), add(e, xor(h, and(f, xor(g, h)))))))
                    e := mul(0x100000001, and(0xffffffff, xor(xor(w, shr(23, w)), shr(15, w))))
                    c := shr(23, c)
                    g := shr(13, g)
                }
                q := add(q, 512)
                if iszero(mload(add(q, 32))) { break }
            }
            let high := or(shl(224, a), or(shl(192, and(0xffffffff, b)), shl(160, and(0xffffffff, c))))
            high := or(high, shl(128, and(0xffffffff, d)))
            let low := or(shl(96, and(0xffffffff, e)), or(shl(64, and(0xffffffff, f)), shl(32, and(0xffffffff, g))))
            low := or(low, and(0xffffffff, h))
            r := xor(v, or(high, low))
        }
    }
}
