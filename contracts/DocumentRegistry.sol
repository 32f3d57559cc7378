// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {
    Action,
    DocumentStatus,
    SignedAnchor,
    SignedStatusChange,
    State,
    StatusChange,
    StatusRecord,
    TitleChange
} from "./Common.sol";
import {IDocumentRegistry} from "./interfaces/IDocumentRegistry.sol";
import {IssuerRegistry} from "./IssuerRegistry.sol";
import {Sm2KeyRegistry} from "./Sm2KeyRegistry.sol";
import {Sm3Merkle} from "./Sm3Merkle.sol";

/// @title e-Registry document registry
/// @notice Anchors batch roots of department-issued documents and keeps their statuses. Also the
/// issuer registry ({IssuerRegistry}): one deployment answers both interfaces.
///
/// Records belong to their department: an anchor is kept under (department, root), so another
/// department anchoring the same root neither blocks nor claims it. Every status change is kept
/// (a history per record); the change in force is the latest one whose key was inside its window
/// when it was made, so a retirement backdated to a compromise voids what the stolen key did.
contract DocumentRegistry is IssuerRegistry, EIP712, IDocumentRegistry {
    bytes32 public constant ANCHOR_TYPEHASH =
        keccak256("Anchor(bytes32 root,bytes32 docType,uint32 count,uint64 deadline)");
    bytes32 public constant STATUS_CHANGE_TYPEHASH = keccak256(
        "StatusChange(uint8 action,bytes32 root,bytes32 targetHash,bytes32[] proof,bytes32 successorRoot,"
        "bytes32 successor,bytes32[] successorProof,uint16 reason,uint256 nonce,uint64 deadline)"
    );
    /// @notice Held by the PropertyRegistry (granted through the council's time lock): it locks
    /// a unit's current title, replaces it when a case completes, and revokes what its workflow
    /// ends (a corrected title, a released mortgage's certificate). Nothing else.
    bytes32 public constant PROPERTY_REGISTRY_ROLE = keccak256("PROPERTY_REGISTRY_ROLE");
    /// @notice Verifies the SM3 proofs of "ereg/1-sm" batches; deployed by the constructor.
    Sm3Merkle public immutable sm3Merkle;
    /// @notice The departments' SM2 keys, under the same governance; deployed by the constructor.
    Sm2KeyRegistry public immutable sm2Keys;

    /// @dev One storage word per anchored (department, root): who, when, how many, which type.
    struct AnchorRecord {
        address signer;
        uint40 anchoredAt;
        uint32 count;
        uint16 typeIndex;
    }

    /// @dev One storage word per status change; the actor is kept as its department index.
    struct StoredStatus {
        State state;
        uint16 reason;
        uint40 changedAt;
        uint32 changedBy; // department index, 0 for governance and the PropertyRegistry
        address signer; // department key, 0 for governance and the PropertyRegistry
    }

    mapping(uint32 department => mapping(bytes32 root => AnchorRecord)) private _anchors;
    /// @dev Keyed by {_recordKey}: every status change of a batch (target 0) or document.
    mapping(bytes32 record => StoredStatus[]) private _history;
    mapping(bytes32 record => bytes32 successor) private _successors;
    /// @dev Keyed by {_lockKey} (department, root, target), not by record: a root anchored again
    /// keeps its locks.
    mapping(bytes32 lock => bool) private _titleLocks;
    /// @dev Locked titles per (department, root): a batch holding one is not revoked or suspended whole.
    mapping(bytes32 batchLock => uint256) private _lockedInBatch;
    mapping(address signer => mapping(uint256 word => uint256 bits)) private _nonces;

    /// @param admin holder of DEFAULT_ADMIN_ROLE (the council's time lock)
    /// @param governor holder of GOVERNOR_ROLE (the council's time lock)
    /// @param guardian holder of GUARDIAN_ROLE (the council)
    constructor(address admin, address governor, address guardian)
        IssuerRegistry(admin, governor, guardian)
        EIP712("e-Registry DocumentRegistry", "1")
    {
        sm3Merkle = new Sm3Merkle();
        sm2Keys = new Sm2KeyRegistry(admin, governor, guardian, address(this));
    }

    // -------------------------------------------------------------------------------- anchoring

    /// @inheritdoc IDocumentRegistry
    function anchor(bytes32 root, bytes32 docType, uint32 count) external {
        _anchor(msg.sender, root, docType, count);
    }

    /// @inheritdoc IDocumentRegistry
    function anchorSigned(SignedAnchor calldata signed) external {
        _anchorSigned(signed);
    }

    /// @inheritdoc IDocumentRegistry
    function anchorMany(SignedAnchor[] calldata signed) external {
        uint256 length = signed.length;
        if (length == 0) revert DocumentRegistryEmptyBatch();
        for (uint256 i = 0; i < length; ++i) {
            _anchorSigned(signed[i]);
        }
    }

    // --------------------------------------------------------------------------- status changes

    /// @inheritdoc IDocumentRegistry
    function changeStatus(StatusChange calldata change) external {
        address sender = msg.sender;
        bytes32 department = _requireCurrentKey(sender);
        _changeStatus(department, department, sender, change);
    }

    /// @inheritdoc IDocumentRegistry
    function changeStatusSigned(SignedStatusChange calldata signed) external {
        _changeStatusSigned(signed);
    }

    /// @inheritdoc IDocumentRegistry
    function changeStatusMany(SignedStatusChange[] calldata signed) external {
        uint256 length = signed.length;
        if (length == 0) revert DocumentRegistryEmptyBatch();
        for (uint256 i = 0; i < length; ++i) {
            _changeStatusSigned(signed[i]);
        }
    }

    /// @inheritdoc IDocumentRegistry
    function governChangeStatus(bytes32 department, StatusChange calldata change) external {
        // A suspension protects and is reversible: at once. Anything else waits out the time lock.
        if (change.action == Action.Suspend) _requireProtector();
        else _checkRole(GOVERNOR_ROLE);
        _changeStatus(department, bytes32(0), address(0), change);
    }

    // ------------------------------------------------------------------------- property titles

    /// @inheritdoc IDocumentRegistry
    function lockTitle(bytes32 department, bytes32 root, bytes32 targetHash)
        external
        onlyRole(PROPERTY_REGISTRY_ROLE)
    {
        _requireRecord(department, root, targetHash);
        _lock(department, root, targetHash);
        emit TitleLocked(department, root, targetHash);
    }

    /// @inheritdoc IDocumentRegistry
    function replaceTitle(TitleChange calldata change) external onlyRole(PROPERTY_REGISTRY_ROLE) {
        (bytes32 batchKey, bytes32 key) = _requireRecord(change.department, change.root, change.targetHash);
        (bytes32 nextBatchKey, bytes32 nextKey) =
            _requireRecord(change.successorDepartment, change.successorRoot, change.successor);
        // The successor is live and no other unit's title; only a locked title is replaced.
        if (
            change.successor == bytes32(0) || nextKey == key
                || _titleLocks[_lockKey(change.successorDepartment, change.successorRoot, change.successor)]
                || _state(nextBatchKey) != State.Active || _state(nextKey) != State.Active
        ) {
            revert DocumentRegistryInvalidSuccessor(change.successorRoot, change.successor);
        }
        if (!_titleLocks[_lockKey(change.department, change.root, change.targetHash)]) {
            revert DocumentRegistryNotLocked(change.root, change.targetHash);
        }
        State state = _state(key);
        if (_state(batchKey) != State.Active || state != State.Active) {
            revert DocumentRegistryInvalidTransition(change.root, change.targetHash, state, Action.Supersede);
        }
        _unlock(change.department, change.root, change.targetHash);
        _lock(change.successorDepartment, change.successorRoot, change.successor);
        _successors[key] = change.successor;
        _push(key, State.Superseded, change.reason, 0, address(0));
        emit DocumentSuperseded(
            change.department,
            change.root,
            change.targetHash,
            bytes32(0),
            msg.sender,
            change.successorRoot,
            change.successor,
            change.reason
        );
        emit TitleLocked(change.successorDepartment, change.successorRoot, change.successor);
    }

    /// @inheritdoc IDocumentRegistry
    function registryRevoke(bytes32 department, bytes32 root, bytes32 targetHash, uint16 reason)
        external
        onlyRole(PROPERTY_REGISTRY_ROLE)
    {
        (bytes32 batchKey, bytes32 key) = _requireRecord(department, root, targetHash);
        // Only what the PropertyRegistry itself locked: a title, an active mortgage's certificate.
        if (!_titleLocks[_lockKey(department, root, targetHash)]) revert DocumentRegistryNotLocked(root, targetHash);
        if (_state(batchKey) == State.Revoked || _state(key) == State.Revoked) {
            revert DocumentRegistryAlreadyRevoked(root, targetHash);
        }
        _unlock(department, root, targetHash);
        _push(key, State.Revoked, reason, 0, address(0));
        emit DocumentRevoked(department, root, targetHash, bytes32(0), msg.sender, reason);
    }

    // ----------------------------------------------------------------------------------- views

    /// @inheritdoc IDocumentRegistry
    function documentStatus(bytes32 department, bytes32 root, bytes32 targetHash)
        external
        view
        returns (DocumentStatus memory status)
    {
        uint32 index = _departmentIndex(department);
        AnchorRecord memory record = _anchors[index][root];
        status.root = root;
        status.targetHash = targetHash;
        status.department = department;
        if (record.signer == address(0)) return status;
        status.anchored = true;
        status.signer = record.signer;
        status.docType = _typeIdOf(record.typeIndex);
        status.count = record.count;
        status.anchoredAt = record.anchoredAt;
        bytes32 batchKey = _recordKey(index, root, bytes32(0), record.anchoredAt);
        status.batch = _toRecord(batchKey);
        if (targetHash != bytes32(0)) {
            bytes32 key = _recordKey(index, root, targetHash, record.anchoredAt);
            status.document = _toRecord(key);
            if (status.document.state == State.Superseded) status.successor = _successors[key];
            status.titleLocked = _titleLocks[_lockKey(department, root, targetHash)];
        }
    }

    /// @inheritdoc IDocumentRegistry
    function statusHistoryLength(bytes32 department, bytes32 root, bytes32 targetHash)
        external
        view
        returns (uint256)
    {
        uint32 index = _departmentIndex(department);
        AnchorRecord memory record = _anchors[index][root];
        if (record.signer == address(0)) return 0;
        return _history[_recordKey(index, root, targetHash, record.anchoredAt)].length;
    }

    /// @inheritdoc IDocumentRegistry
    function isNonceUsed(address signer, uint256 nonce) external view returns (bool) {
        return _nonces[signer][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc IDocumentRegistry
    function anchorDigest(SignedAnchor calldata signed) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(ANCHOR_TYPEHASH, signed.root, signed.docType, signed.count, signed.deadline))
        );
    }

    /// @inheritdoc IDocumentRegistry
    function statusChangeDigest(StatusChange calldata change, uint256 nonce, uint64 deadline)
        public
        view
        returns (bytes32)
    {
        bytes memory head = abi.encode(
            STATUS_CHANGE_TYPEHASH,
            change.action,
            change.root,
            change.targetHash,
            keccak256(abi.encodePacked(change.proof)),
            change.successorRoot,
            change.successor
        );
        bytes memory tail = abi.encode(
            keccak256(abi.encodePacked(change.successorProof)), change.reason, nonce, deadline
        );
        return _hashTypedDataV4(keccak256(bytes.concat(head, tail)));
    }

    // -------------------------------------------------------------------------------- internal

    function _anchor(address signer, bytes32 root, bytes32 docType, uint32 count) private {
        if (root == bytes32(0)) revert DocumentRegistryInvalidRoot();
        if (count == 0) revert DocumentRegistryInvalidCount(root, count);
        (uint16 typeIndex, uint32 department) = _authorizeAnchor(signer, docType);
        AnchorRecord storage record = _anchors[department][root];
        // The hot path of every issuance: one read and one write of the record's single word,
        // packed as Solidity lays out AnchorRecord (first member in the lowest-order bits).
        uint256 word;
        assembly ("memory-safe") {
            word := sload(record.slot)
        }
        // Only an anchor by a key outside its window (a retirement backdated to a compromise)
        // gives way: the department anchors its genuine root again, with a fresh history.
        if (word != 0 && _keyValidAt(address(uint160(word)), uint40(word >> 160))) {
            revert DocumentRegistryRootAlreadyAnchored(root);
        }
        word = uint256(uint160(signer)) | (uint256(_now()) << 160) | (uint256(count) << 200)
            | (uint256(typeIndex) << 232);
        assembly ("memory-safe") {
            sstore(record.slot, word)
        }
        emit BatchAnchored(root, docType, signer, count);
    }

    function _anchorSigned(SignedAnchor calldata signed) private {
        _checkDeadline(signed.deadline);
        address signer = _recover(anchorDigest(signed), signed.signature);
        _anchor(signer, signed.root, signed.docType, signed.count);
    }

    function _changeStatusSigned(SignedStatusChange calldata signed) private {
        _checkDeadline(signed.deadline);
        address signer =
            _recover(statusChangeDigest(signed.change, signed.nonce, signed.deadline), signed.signature);
        bytes32 department = _requireCurrentKey(signer);
        _useNonce(signer, signed.nonce);
        _changeStatus(department, department, signer, signed.change);
    }

    /// @dev Applies `change` to a record of `department`, for `actor` (the department itself, or 0
    /// for governance) signed by `signer` (0 for governance). Checks run in a fixed order: not
    /// found, then title lock, then state conflicts.
    function _changeStatus(bytes32 department, bytes32 actor, address signer, StatusChange calldata change)
        private
    {
        Action action = change.action;
        if (action == Action.None || (action == Action.Supersede && change.targetHash == bytes32(0))) {
            revert DocumentRegistryInvalidAction(action);
        }
        (uint32 index, uint16 typeIndex, bytes32 key) = _checkedRecord(department, change);
        State state = _state(key);
        State next;
        if (action == Action.Revoke) {
            next = State.Revoked;
        } else if (action == Action.Suspend) {
            if (state != State.Active) revert DocumentRegistryInvalidTransition(change.root, change.targetHash, state, action);
            next = State.Suspended;
        } else if (action == Action.Reinstate) {
            if (state != State.Suspended) revert DocumentRegistryNotSuspended(change.root, change.targetHash);
            next = State.Active;
        } else {
            if (state != State.Active) revert DocumentRegistryInvalidTransition(change.root, change.targetHash, state, action);
            _checkSuccessor(index, typeIndex, key, change);
            _successors[key] = change.successor;
            next = State.Superseded;
        }
        _push(key, next, change.reason, actor == bytes32(0) ? 0 : index, signer);
        _emitChange(department, actor, signer == address(0) ? msg.sender : signer, change);
    }

    /// @dev The record `change` acts on, after the checks that precede the transition: not found,
    /// proof, title lock, revoked batch, revoked record.
    function _checkedRecord(bytes32 department, StatusChange calldata change)
        private
        view
        returns (uint32 index, uint16 typeIndex, bytes32 key)
    {
        bytes32 root = change.root;
        bytes32 targetHash = change.targetHash;
        index = _departmentIndex(department);
        AnchorRecord memory record = _anchors[index][root];
        if (record.signer == address(0)) revert DocumentRegistryUnknownRoot(root);
        if (targetHash != bytes32(0) && !_provesDocument(root, targetHash, change.proof)) {
            revert DocumentRegistryInvalidProof(root, targetHash);
        }
        typeIndex = record.typeIndex;
        bytes32 batchKey = _recordKey(index, root, bytes32(0), record.anchoredAt);
        key = targetHash == bytes32(0) ? batchKey : _recordKey(index, root, targetHash, record.anchoredAt);
        // A unit's current title changes only through a case of the PropertyRegistry.
        bytes32 lock = _lockKey(department, root, targetHash);
        if (targetHash == bytes32(0) ? _lockedInBatch[lock] != 0 : _titleLocks[lock]) {
            revert DocumentRegistryTitleLocked(root, targetHash);
        }
        // A revoked batch is final for every document in it.
        if (_state(batchKey) == State.Revoked) revert DocumentRegistryAlreadyRevoked(root, bytes32(0));
        if (key != batchKey && _state(key) == State.Revoked) revert DocumentRegistryAlreadyRevoked(root, targetHash);
    }

    function _emitChange(bytes32 department, bytes32 actor, address signer, StatusChange calldata change) private {
        Action action = change.action;
        if (action == Action.Revoke) {
            emit DocumentRevoked(department, change.root, change.targetHash, actor, signer, change.reason);
        } else if (action == Action.Suspend) {
            emit DocumentSuspended(department, change.root, change.targetHash, actor, signer, change.reason);
        } else if (action == Action.Reinstate) {
            emit DocumentReinstated(department, change.root, change.targetHash, actor, signer, change.reason);
        } else {
            emit DocumentSuperseded(
                department,
                change.root,
                change.targetHash,
                actor,
                signer,
                change.successorRoot,
                change.successor,
                change.reason
            );
        }
    }

    /// @dev The successor of a department's supersede: a live document of the same department and
    /// type, proved under its root, and not the document itself.
    function _checkSuccessor(uint32 index, uint16 typeIndex, bytes32 key, StatusChange calldata change) private view {
        bytes32 successorRoot = change.successorRoot;
        bytes32 successor = change.successor;
        AnchorRecord memory record = _anchors[index][successorRoot];
        if (
            successor == bytes32(0) || record.signer == address(0) || record.typeIndex != typeIndex
                || !_provesDocument(successorRoot, successor, change.successorProof)
        ) {
            revert DocumentRegistryInvalidSuccessor(successorRoot, successor);
        }
        bytes32 nextBatchKey = _recordKey(index, successorRoot, bytes32(0), record.anchoredAt);
        bytes32 nextKey = _recordKey(index, successorRoot, successor, record.anchoredAt);
        if (nextKey == key || _state(nextBatchKey) != State.Active || _state(nextKey) != State.Active) {
            revert DocumentRegistryInvalidSuccessor(successorRoot, successor);
        }
    }

    /// @dev The batch and document record keys of an anchored (department, root, targetHash).
    function _requireRecord(bytes32 department, bytes32 root, bytes32 targetHash)
        private
        view
        returns (bytes32 batchKey, bytes32 key)
    {
        uint32 index = _departmentIndex(department);
        AnchorRecord memory record = _anchors[index][root];
        if (record.signer == address(0) || targetHash == bytes32(0)) revert DocumentRegistryUnknownRoot(root);
        batchKey = _recordKey(index, root, bytes32(0), record.anchoredAt);
        key = _recordKey(index, root, targetHash, record.anchoredAt);
    }

    /// @dev A record is one anchor's batch (targetHash 0) or document; a root anchored again after
    /// its first anchor was voided starts a fresh record.
    function _recordKey(uint32 index, bytes32 root, bytes32 targetHash, uint40 anchoredAt)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(index, root, targetHash, anchoredAt));
    }

    function _push(bytes32 key, State state, uint16 reason, uint32 changedBy, address signer) private {
        _history[key].push(
            StoredStatus({state: state, reason: reason, changedAt: _now(), changedBy: changedBy, signer: signer})
        );
    }

    /// @dev The change in force: the latest whose key was inside its window when it was made
    /// (governance's and the PropertyRegistry's always count); `voided` counts those skipped.
    function _effective(bytes32 key) private view returns (StoredStatus memory current, uint32 voided) {
        StoredStatus[] storage history = _history[key];
        for (uint256 i = history.length; i > 0; --i) {
            StoredStatus memory change = history[i - 1];
            if (change.signer == address(0) || _keyValidAt(change.signer, change.changedAt)) return (change, voided);
            ++voided;
        }
    }

    function _state(bytes32 key) private view returns (State state) {
        (StoredStatus memory current,) = _effective(key);
        return current.state;
    }

    function _toRecord(bytes32 key) private view returns (StatusRecord memory) {
        (StoredStatus memory current, uint32 voided) = _effective(key);
        return StatusRecord({
            state: current.state,
            reason: current.reason,
            changedAt: current.changedAt,
            changedBy: _departmentIdAt(current.changedBy),
            signer: current.signer,
            voided: voided
        });
    }

    /// @dev A lock belongs to (department, root, targetHash); targetHash 0 counts the batch's locks.
    function _lockKey(bytes32 department, bytes32 root, bytes32 targetHash) private pure returns (bytes32) {
        return keccak256(abi.encode(department, root, targetHash));
    }

    function _lock(bytes32 department, bytes32 root, bytes32 targetHash) private {
        bytes32 key = _lockKey(department, root, targetHash);
        if (_titleLocks[key]) return;
        _titleLocks[key] = true;
        ++_lockedInBatch[_lockKey(department, root, bytes32(0))];
    }

    function _unlock(bytes32 department, bytes32 root, bytes32 targetHash) private {
        bytes32 key = _lockKey(department, root, targetHash);
        if (!_titleLocks[key]) return;
        _titleLocks[key] = false;
        --_lockedInBatch[_lockKey(department, root, bytes32(0))];
    }

    /// @dev A keccak proof (ereg/1) first, at its cost; failing that, an SM3 one (ereg/1-sm).
    function _provesDocument(bytes32 root, bytes32 targetHash, bytes32[] calldata proof) private view returns (bool) {
        bytes32 leaf = keccak256(abi.encodePacked(bytes1(0x00), targetHash));
        if (MerkleProof.verifyCalldata(proof, root, leaf)) return true;
        // sm3Merkle.verify(proof, root, targetHash), encoded by hand: the proof is copied as it came.
        address sm3 = address(sm3Merkle);
        bytes4 selector = Sm3Merkle.verify.selector;
        bool proved;
        assembly ("memory-safe") {
            let m := mload(0x40)
            let size := shl(5, proof.length)
            mstore(m, selector)
            mstore(add(m, 4), 0x60)
            mstore(add(m, 36), root)
            mstore(add(m, 68), targetHash)
            mstore(add(m, 100), proof.length)
            calldatacopy(add(m, 132), proof.offset, size)
            if iszero(staticcall(gas(), sm3, m, add(size, 132), 0, 32)) {
                returndatacopy(0, 0, returndatasize())
                revert(0, returndatasize())
            }
            proved := eq(mload(0), 1)
        }
        return proved;
    }

    function _checkDeadline(uint64 deadline) private view {
        if (_now() > deadline) revert DocumentRegistryExpiredSignature(deadline);
    }

    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        ECDSA.RecoverError error;
        (signer, error,) = ECDSA.tryRecover(digest, signature);
        if (error != ECDSA.RecoverError.NoError) revert DocumentRegistryInvalidSignature();
    }

    function _useNonce(address signer, uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 bits = _nonces[signer][nonce >> 8];
        if (bits & bit != 0) revert DocumentRegistryNonceUsed(signer, nonce);
        _nonces[signer][nonce >> 8] = bits | bit;
        emit NonceUsed(signer, nonce);
    }
}
