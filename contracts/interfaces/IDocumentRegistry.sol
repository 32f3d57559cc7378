// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Action, DocumentStatus, SignedAnchor, SignedStatusChange, State, StatusChange} from "../Common.sol";

/// @title Registry of anchored document batches and their statuses
/// @notice A department anchors the Merkle root of a batch of documents, signing either the
/// transaction itself (direct) or an EIP-712 message that anyone may relay. Leaves are
/// keccak256(0x00 ‖ targetHash); inner nodes hash the sorted pair (OpenZeppelin MerkleProof).
/// Only the anchoring department, or governance, may revoke, suspend, reinstate or supersede a
/// batch or one of its documents. Nothing is ever deleted: records keep the last change, events
/// keep every change.
interface IDocumentRegistry {
    /// @notice `root` is zero.
    error DocumentRegistryInvalidRoot();
    /// @notice A batch must hold at least one document.
    error DocumentRegistryInvalidCount(bytes32 root, uint32 count);
    /// @notice `root` was anchored already (roots are never anchored twice, even once revoked).
    error DocumentRegistryRootAlreadyAnchored(bytes32 root);
    /// @notice `root` was never anchored.
    error DocumentRegistryUnknownRoot(bytes32 root);
    /// @notice `proof` does not place keccak256(0x00 ‖ targetHash) under `root`.
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

    /// @notice Emitted when a batch root is anchored.
    event BatchAnchored(bytes32 indexed root, bytes32 indexed docType, address signer, uint32 count);
    /// @notice Emitted when a batch (targetHash 0) or one document is revoked.
    event DocumentRevoked(bytes32 indexed root, bytes32 indexed targetHash, bytes32 indexed department, uint16 reason);
    /// @notice Emitted when a batch (targetHash 0) or one document is suspended.
    event DocumentSuspended(
        bytes32 indexed root, bytes32 indexed targetHash, bytes32 indexed department, uint16 reason
    );
    /// @notice Emitted when a suspended batch (targetHash 0) or document is reinstated.
    event DocumentReinstated(
        bytes32 indexed root, bytes32 indexed targetHash, bytes32 indexed department, uint16 reason
    );
    /// @notice Emitted when a document is superseded by `successor`.
    event DocumentSuperseded(
        bytes32 indexed root,
        bytes32 indexed targetHash,
        bytes32 indexed department,
        bytes32 successorRoot,
        bytes32 successor,
        uint16 reason
    );
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

    /// @notice Revokes, suspends, reinstates or supersedes a batch or one document, as the
    /// sender's department (the sender is a key in its window) or as governance (GOVERNOR_ROLE).
    /// A holder of PROPERTY_REGISTRY_ROLE (the PropertyRegistry, completing a transfer) may only
    /// supersede, and acts for the department that anchored the root.
    /// Requirements: root anchored; proof valid for a document; the actor is the anchoring
    /// department or governance; the transition is allowed from the current state.
    /// Emits {DocumentRevoked}, {DocumentSuspended}, {DocumentReinstated} or {DocumentSuperseded}.
    function changeStatus(StatusChange calldata change) external;

    /// @notice {changeStatus} signed off-chain (EIP-712 `StatusChange`) by a department key.
    /// Requirements: as {changeStatus}; deadline not passed; nonce unused by the signer.
    /// Emits {NonceUsed} and the event of the change.
    function changeStatusSigned(SignedStatusChange calldata signed) external;

    /// @notice Several signed status changes in one transaction; all or none.
    function changeStatusMany(SignedStatusChange[] calldata signed) external;

    /// @notice The full status of document `targetHash` of batch `root` (targetHash 0: the batch).
    /// @dev Does not check that the document belongs to the batch: verifiers check the proof.
    function documentStatus(bytes32 root, bytes32 targetHash) external view returns (DocumentStatus memory);

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
