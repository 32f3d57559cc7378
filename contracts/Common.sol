// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @dev Department roles of the property workflow, as bit flags in {IIssuerRegistry-Department-roles}.
uint8 constant ROLE_NATRES = 1 << 0; // natural resources and planning: real-estate registration
uint8 constant ROLE_TAX = 1 << 1; // tax bureau: deed tax paid
uint8 constant ROLE_HOUSING = 1 << 2; // housing and urban-rural development: sale contract filed
uint8 constant ROLE_COURT = 1 << 3; // court: seizures
uint8 constant ROLE_BANK = 1 << 4; // bank: mortgages
uint8 constant ALL_ROLES = ROLE_NATRES | ROLE_TAX | ROLE_HOUSING | ROLE_COURT | ROLE_BANK;
/// @dev The three roles that approve a transfer: separation of duties keeps them in three departments.
uint8 constant WORKFLOW_ROLES = ROLE_NATRES | ROLE_TAX | ROLE_HOUSING;

/// @dev Reason codes the registries themselves write (see docs/CONTRACTS.md).
uint16 constant REASON_TRANSFERRED = 9; // property transferred
uint16 constant REASON_MORTGAGE_RELEASED = 10; // mortgage released
uint16 constant REASON_CORRECTED = 11; // registration corrected (更正登记)

/// @notice A department (issuing or approving authority) as stored on chain.
struct Department {
    bytes32 id; // stable identifier chosen by governance
    string name; // registered name, e.g. 六安市市场监督管理局
    string creditCode; // unified social credit code (统一社会信用代码), 18 characters
    uint32 index; // 1-based registration order; 0 never names a department
    uint8 roles; // ROLE_* flags
    bool active; // an inactive department cannot anchor or change statuses
    uint40 registeredAt;
}

/// @notice A department's signing key and the window in which it may sign.
/// @dev validUntil == 0 means open-ended. A window can be shortened but never extended, so a
/// document anchored inside the window stays attributable to a key that was valid then.
struct SignerKey {
    bytes32 department;
    uint40 validFrom;
    uint40 validUntil;
}

/// @notice What can happen to an anchored batch or document.
enum Action {
    None,
    Revoke,
    Suspend,
    Reinstate,
    Supersede
}

/// @notice Status of a batch root or of one document (keyed by its target hash).
enum State {
    Active,
    Revoked,
    Suspended,
    Superseded
}

/// @notice The status change of a batch or document that is in force. Never deleted: every change
/// is kept on chain and in events; a change signed by a key outside its (possibly backdated)
/// window does not count, and the one before it is in force again.
struct StatusRecord {
    State state;
    uint16 reason; // reason code of the change in force (see docs/CONTRACTS.md)
    uint40 changedAt; // block time of the change in force; 0 when never changed
    bytes32 changedBy; // acting department, or 0 for governance and the PropertyRegistry
    address signer; // department key that made the change; 0 for governance and the PropertyRegistry
    uint32 voided; // later changes that do not count (their key was outside its window)
}

/// @notice Everything the chain knows about a document, answered in one call.
struct DocumentStatus {
    bool anchored; // under this department
    bytes32 root;
    bytes32 targetHash;
    bytes32 department; // department whose key anchored the batch
    address signer; // key that anchored the batch
    bytes32 docType;
    uint32 count; // documents in the batch
    uint40 anchoredAt;
    StatusRecord batch; // status of the whole batch
    StatusRecord document; // status of this document (Active when targetHash is 0)
    bytes32 successor; // target hash that superseded this document, or 0
    bool titleLocked; // the document is a property unit's current title: it changes only through a case
}

/// @notice The PropertyRegistry replacing a unit's current title by a new certificate.
struct TitleChange {
    bytes32 department; // department that anchored the current title
    bytes32 root;
    bytes32 targetHash;
    bytes32 successorDepartment; // department that anchored the new certificate
    bytes32 successorRoot;
    bytes32 successor;
    uint16 reason;
}

/// @notice One call of a governance proposal.
struct Call {
    address target;
    bytes data;
}

/// @notice What a proposal does once approved: act at once (protective actions only: the registry
/// refuses anything else from the council itself), or go through the time lock.
enum ProposalKind {
    Immediate,
    Scheduled
}

/// @notice A governance proposal of the council, approved by EIP-712 signatures or on chain.
struct Proposal {
    ProposalKind kind;
    Call[] calls;
    uint256 nonce; // unordered: any unused value; consumed when the proposal is carried out
    uint64 deadline; // approvals count until then
}

/// @notice An anchor request signed off-chain by a department key and relayed by anyone.
struct SignedAnchor {
    bytes32 root;
    bytes32 docType;
    uint32 count;
    uint64 deadline;
    bytes signature;
}

/// @notice A status change of a batch (targetHash == 0) or of one document of it.
/// @dev For one document, `proof` proves leaf = H(0x00 ‖ targetHash) under `root`, H = keccak256 or SM3.
/// For Supersede, `successorRoot`/`successor`/`successorProof` name the anchored replacement.
struct StatusChange {
    Action action;
    bytes32 root;
    bytes32 targetHash;
    bytes32[] proof;
    bytes32 successorRoot;
    bytes32 successor;
    bytes32[] successorProof;
    uint16 reason;
}

/// @notice A status change signed off-chain by a department key, relayed by anyone.
/// @dev `nonce` is unordered: any unused value works, so parallel signers never wait on each other.
struct SignedStatusChange {
    StatusChange change;
    uint256 nonce;
    uint64 deadline;
    bytes signature;
}

/// @notice A co-owner of a property unit: a salted commitment (never a name or an ID number) and
/// a share in basis points; a unit's shares sum to exactly 10,000.
/// @dev commitment = keccak256 of a random salt and the owner's identity, computed off chain.
struct Owner {
    bytes32 commitment;
    uint16 share;
}

/// @notice What a case does: a transfer, or a correction of the registration (更正登记).
enum CaseKind {
    Transfer,
    Correction
}

/// @notice Where a transfer case stands.
enum CaseState {
    None,
    Open, // awaiting approvals
    Returned, // sent back for correction; resubmission reopens it with no approvals
    Finalized, // the new certificate and owners are current
    Rejected,
    Cancelled
}

/// @notice A transfer case: the proposed certificate and owners and the approvals gathered.
/// @dev Approver fields name the department that approved as NATRES, TAX and HOUSING (0: not yet).
struct TransferCase {
    uint64 id;
    CaseKind kind;
    bytes32 unitId;
    CaseState state;
    uint32 round; // 1, plus one per resubmission; approvals and consents count for one round
    uint40 openedAt;
    bytes32 openedBy;
    bytes32 certRoot;
    bytes32 certTarget; // proposed certificate (0 for a correction that revokes the title)
    Owner[] owners;
    uint8 approvedRoles; // ROLE_* flags approved in this round
    bytes32 natresApprover;
    bytes32 taxApprover;
    bytes32 housingApprover;
    uint16 reason; // a correction's reason code (0 for a transfer)
}

/// @notice A mortgage (抵押) registered by a bank on a unit.
struct Mortgage {
    uint32 id; // 1-based, per unit
    bytes32 bank;
    bytes32 certRoot;
    bytes32 certTarget; // the mortgage certificate
    uint40 registeredAt;
    uint40 releasedAt; // 0 while active
    bool consentedToOpenCase; // the bank consented to the unit's open case, this round
}

/// @notice A seizure (查封) registered by a court on a unit.
struct Seizure {
    uint32 id; // 1-based, per unit
    bytes32 court;
    bytes32 ruling; // hash of the court's ruling, never its text
    uint40 registeredAt;
    uint40 releasedAt; // 0 while active
}

/// @notice Everything about a unit now, answered in one call.
struct UnitState {
    bool registered;
    bytes32 unitId;
    bytes32 registeredBy;
    uint40 registeredAt;
    bytes32 certRoot; // current property certificate
    bytes32 certTarget;
    Owner[] owners;
    Mortgage[] mortgages; // active ones
    Seizure[] seizures; // active ones
    TransferCase openCase; // id 0 when none is open or returned
}
