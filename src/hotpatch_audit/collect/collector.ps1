# The hotpatch-audit collector engine (Windows PowerShell 5.1, Server Core safe).
#
# Interprets the probe list that hotpatch_audit.collect.collector inserts below (registry values, registry keys, CIM
# properties, CIM instance lists) and prints ONE line: base64 of the UTF-8 JSON document
#   {"collector_version": "...", "values": {"<fact>": <raw value>, ...}, "errors": [{"probe": ..., "message": ...}]}
# Base64 keeps the output ASCII whatever the console code page is. The raw values keep PowerShell 5.1's
# ConvertTo-Json habits (\/Date(ms)\/ dates, one-element lists unwrapped); the controller normalises them.
#
# Strictly read-only: registry keys are opened read-only, CIM is only queried, nothing is written, no temporary
# file is created and no service is started. Each probe fails alone: a value that does not exist is $null, a
# value that cannot be read is $null plus an errors entry naming the probe.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Spec = ConvertFrom-Json @'
__HOTPATCH_AUDIT_PROBES__
'@

# The 64-bit view, so that a 32-bit host process cannot be redirected to Wow6432Node.
$Hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey(
    [Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
$CimCache = @{}
# CIM answers meaning "this class does not exist here" (e.g. no DeviceGuard provider): a known absence.
$CimAbsent = @('InvalidNamespace', 'InvalidClass', 'NotFound')

function Open-HklmKey {
    param([string]$Path)

    if (-not $Path.StartsWith('HKLM\', [StringComparison]::OrdinalIgnoreCase)) {
        throw "only HKLM keys can be probed, not '$Path'"
    }
    return $Hklm.OpenSubKey($Path.Substring(5), $false)
}

function Read-RegistryValue {
    param([string]$Path, [string]$Name)

    $key = Open-HklmKey -Path $Path
    if ($null -eq $key) {
        return $null
    }
    try {
        return $key.GetValue($Name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
    }
    finally {
        $key.Close()
    }
}

function Test-RegistryKey {
    param([string]$Path)

    $key = Open-HklmKey -Path $Path
    if ($null -eq $key) {
        return $false
    }
    $key.Close()
    return $true
}

function Get-CimRows {
    param([string]$Namespace, [string]$ClassName)

    $id = "$Namespace|$ClassName"
    if (-not $CimCache.ContainsKey($id)) {
        $entry = @{ Rows = @(); Failure = $null }
        try {
            $entry.Rows = @(Get-CimInstance -Namespace $Namespace -ClassName $ClassName -ErrorAction Stop)
        }
        catch {
            # NativeErrorCode exists on CimException only; any other exception is a read failure.
            if ($CimAbsent -notcontains [string]$_.Exception.NativeErrorCode) {
                $entry.Failure = $_.Exception.Message
            }
        }
        $CimCache[$id] = $entry
    }
    $cached = $CimCache[$id]
    if ($null -ne $cached.Failure) {
        throw $cached.Failure
    }
    # The comma keeps an empty or one-element array an array when it leaves the function.
    return , $cached.Rows
}

function Read-Probe {
    param($Probe)

    switch ($Probe.read) {
        'registry_value' {
            return Read-RegistryValue -Path $Probe.key -Name $Probe.name
        }
        'registry_key_exists' {
            return Test-RegistryKey -Path $Probe.key
        }
        'registry_values_differ' {
            $first = Read-RegistryValue -Path $Probe.key -Name $Probe.name
            $second = Read-RegistryValue -Path $Probe.other_key -Name $Probe.name
            return ($first -ne $second)
        }
        'cim_property' {
            $rows = Get-CimRows -Namespace $Probe.namespace -ClassName $Probe.cim_class
            if ($rows.Count -eq 0) {
                return $null
            }
            return $rows[0].($Probe.property)
        }
        'cim_instances' {
            $rows = Get-CimRows -Namespace $Probe.namespace -ClassName $Probe.cim_class
            return $rows | Select-Object -Property $Probe.properties
        }
        default {
            throw "unknown probe kind '$($Probe.read)'"
        }
    }
}

$Values = [ordered]@{}
$Errors = New-Object System.Collections.ArrayList
foreach ($probe in $Spec.probes) {
    $Values[$probe.fact] = $null
    try {
        $Values[$probe.fact] = Read-Probe -Probe $probe
    }
    catch {
        [void]$Errors.Add([ordered]@{ probe = $probe.fact; message = $_.Exception.Message })
    }
}
$Hklm.Close()

$Document = [ordered]@{
    collector_version = $Spec.collector_version
    values = $Values
    errors = $Errors
}
$Json = ConvertTo-Json -InputObject $Document -Depth 6 -Compress
[Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($Json))
