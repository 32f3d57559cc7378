// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Action, DocumentStatus, SignedAnchor, SignedStatusChange, State, StatusChange, TitleChange} from "../Common.sol";

/// @title Registry of anchored document batches and their statuses
/// @notice A department anchors the Merkle root of a batch of documents, signing either the
/// transaction itself (direct) or an EIP-712 message that anyone may relay. Leaves are
/// keccak256(0x00 ‖ targetHash); inner nodes hash the sorted pair (OpenZeppelin MerkleProof).
/// Records belong to the anchoring department: the same root anchored by two departments is two
/// records. Only the anchoring department, or governance, may revoke, suspend, reinstate or
/// supersede a batch or one of its documents; a property unit's current title only through the
/// PropertyRegistry. Nothing is ever deleted: every change is kept, and the change in force is
/// the latest one signed by a key inside its window at the time (or by governance).
interface IDocumentRegistry {
    /// @notice `root` is zero.
    error DocumentRegistryInvalidRoot();
    /// @notice A batch must hold at least one document.
    error DocumentRegistryInvalidCount(bytes32 root, uint32 count);
    /// @notice `root` was anchored already by this department (never twice, even once revoked,
    /// unless the first anchor's key was outside its window).
    error DocumentRegistryRootAlreadyAnchored(bytes32 root);
    /// @notice `root` was never anchored by the department concerned.
    error DocumentRegistryUnknownRoot(bytes32 root);
    /// @notice `proof` places H(0x00 ‖ targetHash) under `root` neither with H = keccak256 (ereg/1) nor
    /// with H = SM3 (ereg/1-sm, checked by the Sm3Merkle).
    error DocumentRegistryInvalidProof(bytes32 root, bytes32 targetHash);
    /// @notice `department` (0 = governance) may not change the status of `root`.
    error DocumentRegistryUnauthorized(bytes32 department, bytes32 root);
    /// @notice The batch or document is already revoked.
    error DocumentRegistryAlreadyRevoked(bytes32 root, bytes32 targetHash);
    /// @notice Reinstate was asked of a batch or document that is not suspended.
    error DocumentRegistryNotSuspended(bytes32 root, bytes32 targetHash);
    /// @notice `action` is not allowed from `state`.
    error DocumentRegistryInvalidTransition(bytes32 root, bytes32 targetHash, State state, Action action);
    /// @notice `action` is not a status change, or Supersede was asked of a whole batch.
    error DocumentRegistryInvalidAction(Action action);
    /// @notice The successor of a supersede is not a live anchored document.
    error DocumentRegistryInvalidSuccessor(bytes32 successorRoot, bytes32 successor);
    /// @notice The signed message expired at `deadline`.
    error DocumentRegistryExpiredSignature(uint64 deadline);
    /// @notice The signature is malformed.
    error DocumentRegistryInvalidSignature();
    /// @notice `signer` already used `nonce`.
    error DocumentRegistryNonceUsed(address signer, uint256 nonce);
    /// @notice A batch call was given nothing to do.
    error DocumentRegistryEmptyBatch();
    /// @notice The document is a property unit's current title (or the batch holds one): it changes
    /// only through a transfer or correction case of the PropertyRegistry.
    error DocumentRegistryTitleLocked(bytes32 root, bytes32 targetHash);
    /// @notice The PropertyRegistry may replace or revoke only what it locked.
    error DocumentRegistryNotLocked(bytes32 root, bytes32 targetHash);

    /// @notice Emitted when a batch root is anchored.
    event BatchAnchored(bytes32 indexed root, bytes32 indexed docType, address signer, uint32 count);
    /// @notice Emitted when a batch (targetHash 0) or one document of `department` is revoked, by
    /// `actor` (the department; 0 for governance and the PropertyRegistry) through `signer` (the
    /// department's key, or the calling contract).
    event DocumentRevoked(
        bytes32 indexed department,
        bytes32 indexed root,
        bytes32 indexed targetHash,
        bytes32 actor,
        address signer,
        uint16 reason
    );
    /// @notice Emitted when a batch (targetHash 0) or one document is suspended.
    event DocumentSuspended(
        bytes32 indexed department,
        bytes32 indexed root,
        bytes32 indexed targetHash,
        bytes32 actor,
        address signer,
        uint16 reason
    );
    /// @notice Emitted when a suspended batch (targetHash 0) or document is reinstated.
    event DocumentReinstated(
        bytes32 indexed department,
        bytes32 indexed root,
        bytes32 indexed targetHash,
        bytes32 actor,
        address signer,
        uint16 reason
    );
    /// @notice Emitted when a document is superseded by `successor` (of the same department,
    /// unless the PropertyRegistry replaced a title: then see {TitleLocked} for its department).
    event DocumentSuperseded(
        bytes32 indexed department,
        bytes32 indexed root,
        bytes32 indexed targetHash,
        bytes32 actor,
        address signer,
        bytes32 successorRoot,
        bytes32 successor,
        uint16 reason
    );
    /// @notice Emitted when a document becomes a property unit's current title.
    event TitleLocked(bytes32 indexed department, bytes32 indexed root, bytes32 indexed targetHash);
    /// @notice Emitted when a signer's unordered nonce is consumed.
    event NonceUsed(address indexed signer, uint256 nonce);

    /// @notice Anchors a batch root, signed by the transaction's sender.
    /// Requirements: sender is a key in its window, of an active department authorized for
    /// `docType`; root not zero and never anchored; count not zero.
    /// Emits {BatchAnchored}.
    function anchor(bytes32 root, bytes32 docType, uint32 count) external;

    /// @notice Anchors a batch root signed off-chain (EIP-712 `Anchor`) by a department key.
    /// @dev The root itself is the replay guard: a signed anchor can succeed at most once, on
    /// the chain and contract of the EIP-712 domain, before its deadline.
    /// Requirements: as {anchor} for the recovered signer; deadline not passed.
    /// Emits {BatchAnchored}.
    function anchorSigned(SignedAnchor calldata signed) external;

    /// @notice Anchors several signed roots in one transaction; all or none.
    /// Emits {BatchAnchored} for each root.
    function anchorMany(SignedAnchor[] calldata signed) external;

    /// @notice Revokes, suspends, reinstates or supersedes a batch or one document of the sender's
    /// department (the sender is a key in its window). A successor is a live document of the same
    /// department and type.
    /// Requirements: root anchored by the department; proof valid for a document; not a locked
    /// title (nor, for the whole batch, a batch holding one); the transition is allowed from the
    /// status in force.
    /// Emits {DocumentRevoked}, {DocumentSuspended}, {DocumentReinstated} or {DocumentSuperseded}.
    function changeStatus(StatusChange calldata change) external;

    /// @notice {changeStatus} by governance on a record of `department`.
    /// Requirements: a suspension needs GUARDIAN_ROLE or GOVERNOR_ROLE (at once); every other
    /// action GOVERNOR_ROLE (the time lock); otherwise as {changeStatus}.
    function governChangeStatus(bytes32 department, StatusChange calldata change) external;

    /// @notice Marks a document as a property unit's current title, or an active mortgage's
    /// certificate (PropertyRegistry only): it then changes only through the PropertyRegistry.
    /// Requirements: PROPERTY_REGISTRY_ROLE; anchored by `department`.
    /// Emits {TitleLocked}.
    function lockTitle(bytes32 department, bytes32 root, bytes32 targetHash) external;

    /// @notice Supersedes a unit's title by its successor, which becomes the locked title
    /// (PropertyRegistry only, completing a transfer or correction case).
    /// Requirements: PROPERTY_REGISTRY_ROLE; both anchored and active; the title locked, the
    /// successor no other title.
    /// Emits {DocumentSuperseded} and {TitleLocked}.
    function replaceTitle(TitleChange calldata change) external;

    /// @notice Revokes a document the property workflow ends: a title a correction withdraws, the
    /// certificate of a released mortgage (PropertyRegistry only).
    /// Requirements: PROPERTY_REGISTRY_ROLE; anchored by `department` and locked; not revoked.
    /// Emits {DocumentRevoked}.
    function registryRevoke(bytes32 department, bytes32 root, bytes32 targetHash, uint16 reason) external;

    /// @notice {changeStatus} signed off-chain (EIP-712 `StatusChange`) by a department key.
    /// Requirements: as {changeStatus}; deadline not passed; nonce unused by the signer.
    /// Emits {NonceUsed} and the event of the change.
    function changeStatusSigned(SignedStatusChange calldata signed) external;

    /// @notice Several signed status changes in one transaction; all or none.
    function changeStatusMany(SignedStatusChange[] calldata signed) external;

    /// @notice The full status of document `targetHash` of batch `root` anchored by `department`
    /// (targetHash 0: the batch): the changes in force, and how many later ones were voided.
    /// @dev Does not check that the document belongs to the batch: verifiers check the proof.
    function documentStatus(bytes32 department, bytes32 root, bytes32 targetHash)
        external
        view
        returns (DocumentStatus memory);

    /// @notice How many status changes a batch (targetHash 0) or document has had.
    function statusHistoryLength(bytes32 department, bytes32 root, bytes32 targetHash)
        external
        view
        returns (uint256);

    /// @notice Whether `signer` has used `nonce`.
    function isNonceUsed(address signer, uint256 nonce) external view returns (bool);

    /// @notice EIP-712 digest a department key signs for `signed` (its signature is ignored).
    function anchorDigest(SignedAnchor calldata signed) external view returns (bytes32);

    /// @notice EIP-712 digest a department key signs for `change` with `nonce` and `deadline`.
    function statusChangeDigest(StatusChange calldata change, uint256 nonce, uint64 deadline)
        external
        view
        returns (bytes32);
}
