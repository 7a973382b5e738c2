INSERT INTO department (code, name, region_code, updated_at) VALUES (:code, :name, :region_code, :now)
ON DUPLICATE KEY UPDATE name = VALUES(name), region_code = VALUES(region_code), updated_at = VALUES(updated_at)
