# The hotpatch-audit collector engine (Windows PowerShell 5.1, Server Core safe).
#
# Interprets the probe list that hotpatch_audit.collect.collector inserts below (registry values, registry keys, CIM
# properties, CIM instance lists, System event log entries) and prints ONE line: base64 of the UTF-8 JSON document
#   {"collector_version": "...", "values": {"<fact>": <raw value>, ...}, "errors": [{"probe": ..., "message": ...}]}
# Base64 keeps the output ASCII whatever the console code page is. The raw values keep PowerShell 5.1's
# ConvertTo-Json habits (\/Date(ms)\/ dates, one-element lists unwrapped); the controller normalises them.
#
# Constrained Language Mode (WDAC or AppLocker) forbids .NET method calls on most types: there the registry is
# read with Get-ItemProperty / Get-Item instead of [Microsoft.Win32.RegistryKey], and, as [Convert] is out of
# reach too, the line is "json:" followed by the JSON with every non-ASCII character written as \uXXXX.
#
# Strictly read-only: registry keys are opened read-only, CIM is only queried, nothing is written, no temporary
# file is created and no service is started. Each probe fails alone: a value that does not exist is $null, a
# value that cannot be read is $null plus an errors entry naming the probe.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Spec = ConvertFrom-Json @'
__HOTPATCH_AUDIT_PROBES__
'@

$FullLanguage = $ExecutionContext.SessionState.LanguageMode -eq 'FullLanguage'
$Hklm = $null
if ($FullLanguage) {
    # The 64-bit view, so that a 32-bit host process cannot be redirected to Wow6432Node.
    $Hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey(
        [Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
}
$CimCache = @{}
# CIM answers meaning "this class does not exist here": a known absence. NotFound is not one of them: a broken
# DeviceGuard provider answers it for a class that exists, so it is a read failure.
$CimAbsent = @('InvalidNamespace', 'InvalidClass')

function Get-HklmSubPath {
    param([string]$Path)

    if ($Path -notlike 'HKLM\*') {
        throw "only HKLM keys can be probed, not '$Path'"
    }
    return $Path.Substring(5)
}

function Get-RegistryItem {
    # Constrained Language Mode: the key through the registry provider, $null when it does not exist.
    param([string]$Path)

    try {
        return Get-Item -LiteralPath ('Registry::HKEY_LOCAL_MACHINE\' + (Get-HklmSubPath -Path $Path)) -ErrorAction Stop
    }
    catch {
        if ($_.FullyQualifiedErrorId -like 'PathNotFound*') {
            return $null
        }
        throw
    }
}

function Read-RegistryValue {
    param([string]$Path, [string]$Name)

    if (-not $FullLanguage) {
        if ($null -eq (Get-RegistryItem -Path $Path)) {
            return $null
        }
        $item = Get-ItemProperty -LiteralPath ('Registry::HKEY_LOCAL_MACHINE\' + (Get-HklmSubPath -Path $Path)) -ErrorAction Stop
        if ($null -eq $item) {
            return $null
        }
        return $item.$Name
    }
    $key = $Hklm.OpenSubKey((Get-HklmSubPath -Path $Path), $false)
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

    if (-not $FullLanguage) {
        return ($null -ne (Get-RegistryItem -Path $Path))
    }
    $key = $Hklm.OpenSubKey((Get-HklmSubPath -Path $Path), $false)
    if ($null -eq $key) {
        return $false
    }
    $key.Close()
    return $true
}

function Get-SystemEvents {
    # The events of the probe's providers and ids over its last `days` days; none found is an empty list.
    param($Probe)

    $filter = @{
        LogName = $Probe.log
        ProviderName = @($Probe.providers)
        Id = @($Probe.ids)
        StartTime = (Get-Date).AddDays(-[int]$Probe.days)
    }
    try {
        $events = @(Get-WinEvent -FilterHashtable $filter -ErrorAction Stop)
    }
    catch {
        if ($_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') {
            return , @()
        }
        throw
    }
    $data = @{ Name = 'Data'; Expression = { @($_.Properties | Select-Object -ExpandProperty Value) } }
    $columns = @('TimeCreated', 'Id', 'ProviderName', $data)
    return $events | Select-Object -Property $columns
}

function ConvertTo-AsciiJson {
    # Constrained Language Mode cannot reach [Convert]: escape every non-ASCII character instead.
    param([string]$Json)

    if ($Json -notmatch '[^\x00-\x7E]') {
        return $Json
    }
    $parts = foreach ($c in $Json.ToCharArray()) {
        if ([int]$c -gt 126) { '\u{0:x4}' -f [int]$c } else { [string]$c }
    }
    return -join $parts
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
            $otherName = $Probe.name
            if ($null -ne $Probe.other_name) {
                $otherName = $Probe.other_name
            }
            $first = Read-RegistryValue -Path $Probe.key -Name $Probe.name
            $second = Read-RegistryValue -Path $Probe.other_key -Name $otherName
            return ($first -ne $second)
        }
        'registry_any_value' {
            foreach ($name in @($Probe.names)) {
                if ($null -ne (Read-RegistryValue -Path $Probe.key -Name $name)) {
                    return $true
                }
            }
            return $false
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
        'event_log' {
            return Get-SystemEvents -Probe $Probe
        }
        'event_log_oldest' {
            $oldest = @(Get-WinEvent -LogName $Probe.log -MaxEvents 1 -Oldest -ErrorAction Stop)
            if ($oldest.Count -eq 0) {
                return $null
            }
            return $oldest[0].TimeCreated
        }
        default {
            throw "unknown probe kind '$($Probe.read)'"
        }
    }
}

$Values = [ordered]@{}
$Errors = @()
foreach ($probe in $Spec.probes) {
    $Values[$probe.fact] = $null
    try {
        $Values[$probe.fact] = Read-Probe -Probe $probe
    }
    catch {
        $Errors += [ordered]@{ probe = $probe.fact; message = $_.Exception.Message }
    }
}
if ($FullLanguage) {
    $Hklm.Close()
}

$Document = [ordered]@{
    collector_version = $Spec.collector_version
    values = $Values
    errors = $Errors
}
$Json = ConvertTo-Json -InputObject $Document -Depth 6 -Compress
if ($FullLanguage) {
    [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($Json))
}
else {
    'json:' + (ConvertTo-AsciiJson -Json $Json)
}
