// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Department, SignerKey} from "../Common.sol";

/// @title Registry of issuing departments, their signing keys and the document types they may issue
/// @notice Governance (accounts holding GOVERNOR_ROLE) registers departments, gives them signing
/// keys with validity windows, and authorizes document types per department. Documents stay
/// attributable to the key that anchored them: a key's window can be shortened (rotation,
/// compromise) but never extended, and keys are never reassigned to another department.
interface IIssuerRegistry {
    /// @notice `department` is not registered.
    error IssuerRegistryUnknownDepartment(bytes32 department);
    /// @notice `department` is already registered.
    error IssuerRegistryDepartmentExists(bytes32 department);
    /// @notice `department` is registered but not active.
    error IssuerRegistryDepartmentInactive(bytes32 department);
    /// @notice The department id is zero, or its name or credit code is not acceptable.
    error IssuerRegistryInvalidDepartment(bytes32 department);
    /// @notice `roles` has bits outside the known property roles.
    error IssuerRegistryInvalidRoles(uint8 roles);
    /// @notice `roles` holds two of NATRES, TAX and HOUSING: one department may not approve for two.
    error IssuerRegistryConflictingRoles(uint8 roles);
    /// @notice `signer` is not a registered signing key.
    error IssuerRegistryUnknownSigner(address signer);
    /// @notice `signer` is already a key of `department`.
    error IssuerRegistrySignerExists(address signer, bytes32 department);
    /// @notice The window is empty, or would extend the key's current window.
    error IssuerRegistryInvalidKeyWindow(address signer, uint40 validFrom, uint40 validUntil);
    /// @notice `signer` is outside its validity window at time `at`.
    error IssuerRegistryKeyNotValid(address signer, uint40 validFrom, uint40 validUntil, uint40 at);
    /// @notice `department` already has the maximum number of live keys.
    error IssuerRegistryTooManyKeys(bytes32 department, uint256 max);
    /// @notice `docType` was never registered.
    error IssuerRegistryUnknownDocumentType(bytes32 docType);
    /// @notice A type with this name is already registered as `docType`.
    error IssuerRegistryDocumentTypeExists(bytes32 docType);
    /// @notice The document type name is empty or too long.
    error IssuerRegistryInvalidDocumentType(string name);
    /// @notice `department` may not issue `docType`.
    error IssuerRegistryTypeNotAuthorized(bytes32 department, bytes32 docType);
    /// @notice `department` may already issue `docType`.
    error IssuerRegistryTypeAlreadyAuthorized(bytes32 department, bytes32 docType);
    /// @notice `department` already has the maximum number of authorized types.
    error IssuerRegistryTooManyTypes(bytes32 department, uint256 max);

    /// @notice Emitted when a department is registered.
    event DepartmentRegistered(
        bytes32 indexed department, uint32 index, string name, string creditCode, uint8 roles
    );
    /// @notice Emitted when a department is activated or deactivated.
    event DepartmentActivationChanged(bytes32 indexed department, bool active);
    /// @notice Emitted when a department's property roles change.
    event DepartmentRolesChanged(bytes32 indexed department, uint8 roles);
    /// @notice Emitted when a signing key is added to a department.
    event SignerKeyAdded(
        bytes32 indexed department, address indexed signer, uint40 validFrom, uint40 validUntil
    );
    /// @notice Emitted when a signing key's window is shortened (rotation or compromise).
    event SignerKeyRetired(bytes32 indexed department, address indexed signer, uint40 validUntil);
    /// @notice Emitted when a document type is registered; `docType` is keccak256 of `name`.
    event DocumentTypeRegistered(bytes32 indexed docType, uint16 index, string name);
    /// @notice Emitted when a department may start issuing a document type.
    event DocumentTypeAuthorized(bytes32 indexed department, bytes32 indexed docType);
    /// @notice Emitted when a department may no longer issue a document type.
    event DocumentTypeDeauthorized(bytes32 indexed department, bytes32 indexed docType);

    /// @notice Registers an active department.
    /// @param id stable identifier, not zero
    /// @param name registered name (1 to 128 bytes)
    /// @param creditCode unified social credit code, exactly 18 bytes
    /// @param roles ROLE_* flags for the property workflow, at most one of NATRES, TAX and HOUSING
    /// Requirements: caller has GOVERNOR_ROLE; `id` not yet registered.
    /// Emits {DepartmentRegistered}.
    function registerDepartment(bytes32 id, string calldata name, string calldata creditCode, uint8 roles)
        external;

    /// @notice Activates or deactivates a department. Documents it already anchored keep their status.
    /// Requirements: to activate, caller has GOVERNOR_ROLE; to deactivate (protective, at once),
    /// GUARDIAN_ROLE or GOVERNOR_ROLE; department registered.
    /// Emits {DepartmentActivationChanged}.
    function setDepartmentActive(bytes32 id, bool active) external;

    /// @notice Replaces a department's property roles.
    /// Requirements: caller has GOVERNOR_ROLE, or GUARDIAN_ROLE when `roles` only withdraws roles;
    /// department registered; known role bits only, at most one of NATRES, TAX and HOUSING.
    /// Emits {DepartmentRolesChanged}.
    function setDepartmentRoles(bytes32 id, uint8 roles) external;

    /// @notice Adds a signing key to a department.
    /// @param validFrom first second at which the key may sign
    /// @param validUntil first second at which it may no longer sign, or 0 for open-ended
    /// Requirements: caller has GOVERNOR_ROLE; department registered; key never registered;
    /// validUntil is 0 or after validFrom; fewer than MAX_KEYS live keys.
    /// Emits {SignerKeyAdded}.
    function addSignerKey(bytes32 department, address signer, uint40 validFrom, uint40 validUntil) external;

    /// @notice Ends a key's window at `validUntil` (now or later for rotation, earlier for a
    /// compromise; 0 for the block this call runs in, whenever a proposal carries it out).
    /// A backdated end voids what the key signed after it: its anchors, and its status changes,
    /// which stop counting (the change before each is in force again).
    /// Requirements: caller has GUARDIAN_ROLE or GOVERNOR_ROLE when `validUntil` is now or later,
    /// GOVERNOR_ROLE when it is in the past; key registered; the window only shrinks and stays non-empty.
    /// Emits {SignerKeyRetired}.
    function retireSignerKey(address signer, uint40 validUntil) external;

    /// @notice Registers a document type by name; its id is keccak256(bytes(name)).
    /// Requirements: caller has GOVERNOR_ROLE; name 1 to 64 bytes and not yet registered.
    /// Emits {DocumentTypeRegistered}.
    /// @return docType the type id
    function registerDocumentType(string calldata name) external returns (bytes32 docType);

    /// @notice Lets a department issue a registered document type.
    /// Requirements: caller has GOVERNOR_ROLE; department and type registered; not yet authorized.
    /// Emits {DocumentTypeAuthorized}.
    function authorizeDocumentType(bytes32 department, bytes32 docType) external;

    /// @notice Stops a department issuing a document type. Documents already anchored are unaffected.
    /// Requirements: caller has GUARDIAN_ROLE or GOVERNOR_ROLE; currently authorized.
    /// Emits {DocumentTypeDeauthorized}.
    function deauthorizeDocumentType(bytes32 department, bytes32 docType) external;

    /// @notice The department registered as `id`.
    /// Requirements: registered.
    function getDepartment(bytes32 id) external view returns (Department memory);

    /// @notice Number of departments ever registered.
    function departmentCount() external view returns (uint256);

    /// @notice Id of the department registered `index`-th (1-based).
    function departmentIdAt(uint256 index) external view returns (bytes32);

    /// @notice Whether `department` is registered and holds every bit of `roles`.
    function hasDepartmentRole(bytes32 department, uint8 roles) external view returns (bool);

    /// @notice The signing key record of `signer`.
    /// Requirements: registered.
    function getSignerKey(address signer) external view returns (SignerKey memory);

    /// @notice Keys of `department` that can still sign now or later.
    function liveSignerKeys(bytes32 department) external view returns (address[] memory);

    /// @notice Document types `department` may issue.
    function authorizedDocumentTypes(bytes32 department) external view returns (bytes32[] memory);

    /// @notice Whether `docType` is a registered document type.
    function isDocumentType(bytes32 docType) external view returns (bool);

    /// @notice Whether `signer` may anchor a document of `docType` right now, and for which department.
    /// @return department the signer's department (0 if unknown)
    /// @return allowed true when the key is in its window, the department active and authorized
    function canAnchor(address signer, bytes32 docType) external view returns (bytes32 department, bool allowed);
}
