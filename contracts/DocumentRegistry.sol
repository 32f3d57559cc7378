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
    StatusRecord
} from "./Common.sol";
import {IDocumentRegistry} from "./interfaces/IDocumentRegistry.sol";
import {IssuerRegistry} from "./IssuerRegistry.sol";

/// @title e-Registry document registry
/// @notice Anchors batch roots of department-issued documents and keeps their statuses. Also the
/// issuer registry ({IssuerRegistry}): one deployment answers both interfaces.
contract DocumentRegistry is IssuerRegistry, EIP712, IDocumentRegistry {
    bytes32 public constant ANCHOR_TYPEHASH =
        keccak256("Anchor(bytes32 root,bytes32 docType,uint32 count,uint64 deadline)");
    bytes32 public constant STATUS_CHANGE_TYPEHASH = keccak256(
        "StatusChange(uint8 action,bytes32 root,bytes32 targetHash,bytes32[] proof,bytes32 successorRoot,"
        "bytes32 successor,bytes32[] successorProof,uint16 reason,uint256 nonce,uint64 deadline)"
    );
    /// @notice Held by the PropertyRegistry (granted by the admin): it may supersede a document,
    /// and nothing else, acting for the department that anchored it.
    bytes32 public constant PROPERTY_REGISTRY_ROLE = keccak256("PROPERTY_REGISTRY_ROLE");

    /// @dev One storage word per anchored root: who, when, how many, which type.
    struct AnchorRecord {
        address signer;
        uint40 anchoredAt;
        uint32 count;
        uint16 typeIndex;
    }

    /// @dev One storage word per status record; the actor is kept as its department index.
    struct StoredStatus {
        State state;
        uint16 reason;
        uint40 changedAt;
        uint32 changedBy; // department index, 0 for governance
    }

    mapping(bytes32 root => AnchorRecord) private _anchors;
    mapping(bytes32 root => StoredStatus) private _batchStatus;
    mapping(bytes32 root => mapping(bytes32 targetHash => StoredStatus)) private _documentStatus;
    mapping(bytes32 root => mapping(bytes32 targetHash => bytes32 successor)) private _successors;
    mapping(address signer => mapping(uint256 word => uint256 bits)) private _nonces;

    /// @param admin holder of DEFAULT_ADMIN_ROLE (grants and revokes GOVERNOR_ROLE)
    /// @param governor first holder of GOVERNOR_ROLE
    constructor(address admin, address governor)
        IssuerRegistry(admin, governor)
        EIP712("e-Registry DocumentRegistry", "1")
    {}

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
        bytes32 actor;
        if (_departmentOfSigner(msg.sender) != bytes32(0)) {
            actor = _requireCurrentKey(msg.sender);
        } else if (!hasRole(GOVERNOR_ROLE, msg.sender)) {
            if (!hasRole(PROPERTY_REGISTRY_ROLE, msg.sender)) revert IssuerRegistryUnknownSigner(msg.sender);
            actor = _propertyRegistryActor(change);
        }
        _changeStatus(actor, change);
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

    // ----------------------------------------------------------------------------------- views

    /// @inheritdoc IDocumentRegistry
    function documentStatus(bytes32 root, bytes32 targetHash) external view returns (DocumentStatus memory status) {
        AnchorRecord memory record = _anchors[root];
        status.root = root;
        status.targetHash = targetHash;
        if (record.signer == address(0)) return status;
        status.anchored = true;
        status.signer = record.signer;
        status.department = _departmentOfSigner(record.signer);
        status.docType = _typeIdOf(record.typeIndex);
        status.count = record.count;
        status.anchoredAt = record.anchoredAt;
        status.batch = _toRecord(_batchStatus[root]);
        if (targetHash != bytes32(0)) {
            status.document = _toRecord(_documentStatus[root][targetHash]);
            status.successor = _successors[root][targetHash];
        }
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
        uint16 typeIndex = _authorizeAnchor(signer, docType);
        AnchorRecord storage record = _anchors[root];
        // The hot path of every issuance: one read and one write of the record's single word,
        // packed as Solidity lays out AnchorRecord (first member in the lowest-order bits).
        uint256 word;
        assembly ("memory-safe") {
            word := sload(record.slot)
        }
        if (word != 0) revert DocumentRegistryRootAlreadyAnchored(root);
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
        bytes32 actor = _requireCurrentKey(signer);
        _useNonce(signer, signed.nonce);
        _changeStatus(actor, signed.change);
    }

    /// @dev Applies `change` for `actor` (a department, or 0 for governance). Checks run in a
    /// fixed order: not found, then access denied, then state conflicts.
    function _changeStatus(bytes32 actor, StatusChange calldata change) private {
        Action action = change.action;
        bytes32 root = change.root;
        bytes32 targetHash = change.targetHash;
        if (action == Action.None || (action == Action.Supersede && targetHash == bytes32(0))) {
            revert DocumentRegistryInvalidAction(action);
        }
        AnchorRecord memory record = _anchors[root];
        if (record.signer == address(0)) revert DocumentRegistryUnknownRoot(root);
        if (targetHash != bytes32(0) && !_provesDocument(root, targetHash, change.proof)) {
            revert DocumentRegistryInvalidProof(root, targetHash);
        }
        if (actor != bytes32(0) && actor != _departmentOfSigner(record.signer)) {
            revert DocumentRegistryUnauthorized(actor, root);
        }
        // A revoked batch is final for every document in it.
        State batchState = _batchStatus[root].state;
        if (batchState == State.Revoked) revert DocumentRegistryAlreadyRevoked(root, bytes32(0));
        State state = targetHash == bytes32(0) ? batchState : _documentStatus[root][targetHash].state;
        if (state == State.Revoked) revert DocumentRegistryAlreadyRevoked(root, targetHash);

        State next;
        if (action == Action.Revoke) {
            next = State.Revoked;
            emit DocumentRevoked(root, targetHash, actor, change.reason);
        } else if (action == Action.Suspend) {
            if (state != State.Active) revert DocumentRegistryInvalidTransition(root, targetHash, state, action);
            next = State.Suspended;
            emit DocumentSuspended(root, targetHash, actor, change.reason);
        } else if (action == Action.Reinstate) {
            if (state != State.Suspended) revert DocumentRegistryNotSuspended(root, targetHash);
            next = State.Active;
            emit DocumentReinstated(root, targetHash, actor, change.reason);
        } else {
            if (state != State.Active) revert DocumentRegistryInvalidTransition(root, targetHash, state, action);
            _checkSuccessor(change);
            _successors[root][targetHash] = change.successor;
            next = State.Superseded;
            emit DocumentSuperseded(root, targetHash, actor, change.successorRoot, change.successor, change.reason);
        }
        StoredStatus memory stored = StoredStatus({
            state: next,
            reason: change.reason,
            changedAt: _now(),
            changedBy: actor == bytes32(0) ? 0 : _departmentIndex(actor)
        });
        if (targetHash == bytes32(0)) _batchStatus[root] = stored;
        else _documentStatus[root][targetHash] = stored;
    }

    /// @dev The department a PROPERTY_REGISTRY_ROLE holder acts for: the one that anchored the
    /// root. Supersede is the only action it may take.
    function _propertyRegistryActor(StatusChange calldata change) private view returns (bytes32 actor) {
        if (change.action != Action.Supersede) revert DocumentRegistryInvalidAction(change.action);
        address signer = _anchors[change.root].signer;
        if (signer == address(0)) revert DocumentRegistryUnknownRoot(change.root);
        actor = _departmentOfSigner(signer);
    }

    function _toRecord(StoredStatus memory stored) private view returns (StatusRecord memory) {
        return StatusRecord({
            state: stored.state,
            reason: stored.reason,
            changedAt: stored.changedAt,
            changedBy: _departmentIdAt(stored.changedBy)
        });
    }

    /// @dev The successor must be an anchored document, not the document itself, and not revoked.
    function _checkSuccessor(StatusChange calldata change) private view {
        bytes32 successorRoot = change.successorRoot;
        bytes32 successor = change.successor;
        if (
            successor == bytes32(0) || (successor == change.targetHash && successorRoot == change.root)
                || _anchors[successorRoot].signer == address(0)
                || !_provesDocument(successorRoot, successor, change.successorProof)
                || _batchStatus[successorRoot].state != State.Active
                || _documentStatus[successorRoot][successor].state != State.Active
        ) {
            revert DocumentRegistryInvalidSuccessor(successorRoot, successor);
        }
    }

    function _provesDocument(bytes32 root, bytes32 targetHash, bytes32[] calldata proof) private pure returns (bool) {
        bytes32 leaf = keccak256(abi.encodePacked(bytes1(0x00), targetHash));
        return MerkleProof.verifyCalldata(proof, root, leaf);
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
