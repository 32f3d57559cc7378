// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice A department's SM2 public key (GB/T 32918) and the window in which it may sign.
/// @dev validUntil == 0 means open-ended. As for signing keys, a window can be shortened but
/// never extended. The key's id is keccak256(abi.encodePacked(x, y)).
struct Sm2Key {
    bytes32 department;
    uint40 validFrom;
    uint40 validUntil;
    bytes32 x; // affine coordinates of the uncompressed point
    bytes32 y;
}

/// @title SM2 public keys of the departments ("ereg/1-sm" documents)
/// @notice Governance gives departments of the issuer registry SM2 keys with validity windows,
/// under the rules of the issuer registry's signing keys: adding a key, or retiring one backdated
/// (which voids what it signed since), needs GOVERNOR_ROLE (the council's time lock); retiring a
/// key from now on protects and needs GUARDIAN_ROLE (the council) or GOVERNOR_ROLE.
interface ISm2KeyRegistry {
    /// @notice (x, y) is not a point of the SM2 curve.
    error Sm2KeyRegistryInvalidKey(bytes32 x, bytes32 y);
    /// @notice The key `keyId` is already a key of `department`.
    error Sm2KeyRegistryKeyExists(bytes32 keyId, bytes32 department);
    /// @notice `keyId` is not a registered key.
    error Sm2KeyRegistryUnknownKey(bytes32 keyId);
    /// @notice The window is empty, or would extend the key's current window.
    error Sm2KeyRegistryInvalidKeyWindow(bytes32 keyId, uint40 validFrom, uint40 validUntil);
    /// @notice `department` already has the maximum number of live keys.
    error Sm2KeyRegistryTooManyKeys(bytes32 department, uint256 max);

    /// @notice Emitted when an SM2 key is added to a department.
    event Sm2KeyAdded(
        bytes32 indexed department, bytes32 indexed keyId, bytes32 x, bytes32 y, uint40 validFrom, uint40 validUntil
    );
    /// @notice Emitted when an SM2 key's window is shortened (rotation or compromise).
    event Sm2KeyRetired(bytes32 indexed department, bytes32 indexed keyId, uint40 validUntil);

    /// @notice Adds the SM2 key (x, y) to a department.
    /// @param validFrom first second at which the key may sign
    /// @param validUntil first second at which it may no longer sign, or 0 for open-ended
    /// Requirements: caller has GOVERNOR_ROLE; department registered in the issuer registry;
    /// (x, y) on the curve; key never registered; validUntil is 0 or after validFrom; fewer than
    /// MAX_KEYS live keys.
    /// Emits {Sm2KeyAdded}.
    function addSm2Key(bytes32 department, bytes32 x, bytes32 y, uint40 validFrom, uint40 validUntil) external;

    /// @notice Ends a key's window at `validUntil` (now or later for rotation, earlier for a
    /// compromise; 0 for the block this call runs in).
    /// Requirements: caller has GUARDIAN_ROLE or GOVERNOR_ROLE when `validUntil` is now or later,
    /// GOVERNOR_ROLE when it is in the past; key registered; the window only shrinks and stays non-empty.
    /// Emits {Sm2KeyRetired}.
    function retireSm2Key(bytes32 keyId, uint40 validUntil) external;

    /// @notice The key `keyId`.
    /// Requirements: registered.
    function getSm2Key(bytes32 keyId) external view returns (Sm2Key memory);

    /// @notice Ids of every key `department` was ever given, in order.
    function sm2KeysOf(bytes32 department) external view returns (bytes32[] memory);

    /// @notice The issuer registry whose departments hold the keys.
    function issuerRegistry() external view returns (address);
}
