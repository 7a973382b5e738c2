-- The entry's policy has been applied to its cycles: unless a sync changed it meanwhile.
UPDATE catalogue_entry SET checked_channels = :channels
WHERE dept_code = :dept_code AND licence_name = :licence_name AND COALESCE(channels, '') = :channels
