(define (problem plan_pick_heat_then_place_in_recep-Egg-None-CounterTop-kitchen3)
(:domain alfred)
(:objects
agent1 - agent
        AppleType - otype
        ButterKnifeType - otype
        CupType - otype
        EggType - otype
        KettleType - otype
        KnifeType - otype
        MugType - otype
        PlateType - otype
        PotatoType - otype
        SaltShakerType - otype
        CabinetType - rtype
        CounterTopType - rtype
        DrawerType - rtype
        FridgeType - rtype
        GarbageCanType - rtype
        MicrowaveType - rtype
        SinkBasinType - rtype
        StoveBurnerType - rtype
        ToasterType - rtype
        Mug_bar__plus_07_dot_73_bar__plus_01_dot_00_bar__plus_07_dot_10 - object
        SaltShaker_bar__plus_08_dot_87_bar__plus_00_dot_90_bar__plus_07_dot_53 - object
        Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96 - object
        Egg_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39 - object
        Apple_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82 - object
        Cup_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25 - object
        Potato_bar__plus_10_dot_28_bar__plus_01_dot_00_bar__plus_09_dot_68 - object
        Kettle_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11 - object
        ButterKnife_bar__plus_11_dot_57_bar__plus_00_dot_95_bar__plus_10_dot_54 - object
        CounterTop_bar__plus_01_dot_10_bar__plus_00_dot_90_bar__minus_01_dot_50 - receptacle
        Cabinet_bar__plus_01_dot_14_bar__plus_00_dot_95_bar__minus_01_dot_07 - receptacle
        Cabinet_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64 - receptacle
        Fridge_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21 - receptacle
        Microwave_bar__plus_02_dot_47_bar__plus_00_dot_95_bar__plus_00_dot_22 - receptacle
        Sink_bar__plus_02_dot_29_bar__plus_01_dot_00_bar__plus_00_dot_65_bar_SinkBasin - receptacle
        StoveBurner_bar__plus_03_dot_43_bar__plus_00_dot_90_bar__plus_01_dot_08 - receptacle
        Toaster_bar__plus_03_dot_36_bar__plus_00_dot_95_bar__plus_01_dot_51 - receptacle
        GarbageCan_bar__plus_04_dot_06_bar__plus_01_dot_00_bar__plus_01_dot_94 - receptacle
        Drawer_bar__plus_03_dot_99_bar__plus_00_dot_90_bar__plus_02_dot_37 - receptacle
        loc_bar_0_bar_6_bar_3_bar__minus_15 - location
        loc_bar_0_bar__minus_4_bar_0_bar__minus_30 - location
        loc_bar_1_bar__minus_1_bar_1_bar__minus_15 - location
        loc_bar_1_bar__minus_2_bar_0_bar_0 - location
        loc_bar_2_bar_1_bar_1_bar_15 - location
        loc_bar_2_bar_2_bar_2_bar_0 - location
        loc_bar_3_bar_5_bar_3_bar_15 - location
        loc_bar_4_bar__minus_3_bar_0_bar_30 - location
        loc_bar_5_bar_0_bar_1_bar_45 - location
        loc_bar_6_bar_3_bar_2_bar__minus_30 - location
        loc_bar__minus_1_bar_5_bar_0_bar_30 - location
        )

(:init

        (receptacleType CounterTop_bar__plus_01_dot_10_bar__plus_00_dot_90_bar__minus_01_dot_50 CounterTopType)
        (receptacleType Cabinet_bar__plus_01_dot_14_bar__plus_00_dot_95_bar__minus_01_dot_07 CabinetType)
        (receptacleType Cabinet_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64 CabinetType)
        (receptacleType Fridge_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21 FridgeType)
        (receptacleType Microwave_bar__plus_02_dot_47_bar__plus_00_dot_95_bar__plus_00_dot_22 MicrowaveType)
        (receptacleType Sink_bar__plus_02_dot_29_bar__plus_01_dot_00_bar__plus_00_dot_65_bar_SinkBasin SinkBasinType)
        (receptacleType StoveBurner_bar__plus_03_dot_43_bar__plus_00_dot_90_bar__plus_01_dot_08 StoveBurnerType)
        (receptacleType Toaster_bar__plus_03_dot_36_bar__plus_00_dot_95_bar__plus_01_dot_51 ToasterType)
        (receptacleType GarbageCan_bar__plus_04_dot_06_bar__plus_01_dot_00_bar__plus_01_dot_94 GarbageCanType)
        (receptacleType Drawer_bar__plus_03_dot_99_bar__plus_00_dot_90_bar__plus_02_dot_37 DrawerType)
        (objectType Mug_bar__plus_07_dot_73_bar__plus_01_dot_00_bar__plus_07_dot_10 MugType)
        (objectType SaltShaker_bar__plus_08_dot_87_bar__plus_00_dot_90_bar__plus_07_dot_53 SaltShakerType)
        (objectType Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96 PlateType)
        (objectType Egg_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39 EggType)
        (objectType Apple_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82 AppleType)
        (objectType Cup_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25 CupType)
        (objectType Potato_bar__plus_10_dot_28_bar__plus_01_dot_00_bar__plus_09_dot_68 PotatoType)
        (objectType Kettle_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11 KettleType)
        (objectType ButterKnife_bar__plus_11_dot_57_bar__plus_00_dot_95_bar__plus_10_dot_54 ButterKnifeType)
        (canContain CabinetType CupType)
        (canContain CabinetType KettleType)
        (canContain CabinetType MugType)
        (canContain CabinetType PlateType)
        (canContain CabinetType SaltShakerType)
        (canContain CounterTopType AppleType)
        (canContain CounterTopType ButterKnifeType)
        (canContain CounterTopType CupType)
        (canContain CounterTopType EggType)
        (canContain CounterTopType KettleType)
        (canContain CounterTopType MugType)
        (canContain CounterTopType PlateType)
        (canContain CounterTopType PotatoType)
        (canContain CounterTopType SaltShakerType)
        (canContain DrawerType ButterKnifeType)
        (canContain DrawerType SaltShakerType)
        (canContain FridgeType AppleType)
        (canContain FridgeType CupType)
        (canContain FridgeType EggType)
        (canContain FridgeType MugType)
        (canContain FridgeType PlateType)
        (canContain FridgeType PotatoType)
        (canContain GarbageCanType AppleType)
        (canContain GarbageCanType EggType)
        (canContain GarbageCanType PotatoType)
        (canContain MicrowaveType AppleType)
        (canContain MicrowaveType CupType)
        (canContain MicrowaveType EggType)
        (canContain MicrowaveType MugType)
        (canContain MicrowaveType PlateType)
        (canContain MicrowaveType PotatoType)
        (canContain SinkBasinType AppleType)
        (canContain SinkBasinType ButterKnifeType)
        (canContain SinkBasinType CupType)
        (canContain SinkBasinType EggType)
        (canContain SinkBasinType KettleType)
        (canContain SinkBasinType MugType)
        (canContain SinkBasinType PlateType)
        (canContain SinkBasinType PotatoType)
        (canContain StoveBurnerType KettleType)
        (pickupable Mug_bar__plus_07_dot_73_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (pickupable SaltShaker_bar__plus_08_dot_87_bar__plus_00_dot_90_bar__plus_07_dot_53)
        (pickupable Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (pickupable Egg_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (pickupable Apple_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (pickupable Cup_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (pickupable Potato_bar__plus_10_dot_28_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (pickupable Kettle_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (pickupable ButterKnife_bar__plus_11_dot_57_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (isReceptacleObject Mug_bar__plus_07_dot_73_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (isReceptacleObject Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (isReceptacleObject Cup_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (openable Cabinet_bar__plus_01_dot_14_bar__plus_00_dot_95_bar__minus_01_dot_07)
        (openable Cabinet_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64)
        (openable Fridge_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21)
        (openable Microwave_bar__plus_02_dot_47_bar__plus_00_dot_95_bar__plus_00_dot_22)
        (openable Drawer_bar__plus_03_dot_99_bar__plus_00_dot_90_bar__plus_02_dot_37)
        (atLocation agent1 loc_bar__minus_1_bar_5_bar_0_bar_30)
        (cleanable Mug_bar__plus_07_dot_73_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (cleanable Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (cleanable Egg_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (cleanable Apple_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (cleanable Cup_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (cleanable Potato_bar__plus_10_dot_28_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (cleanable Kettle_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (cleanable ButterKnife_bar__plus_11_dot_57_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (heatable Mug_bar__plus_07_dot_73_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (heatable Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (heatable Egg_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (heatable Apple_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (heatable Cup_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (heatable Potato_bar__plus_10_dot_28_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (coolable Mug_bar__plus_07_dot_73_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (coolable Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (coolable Egg_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (coolable Apple_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (coolable Cup_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (coolable Potato_bar__plus_10_dot_28_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (sliceable Egg_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (sliceable Apple_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (sliceable Potato_bar__plus_10_dot_28_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (inReceptacle Mug_bar__plus_07_dot_73_bar__plus_01_dot_00_bar__plus_07_dot_10 CounterTop_bar__plus_01_dot_10_bar__plus_00_dot_90_bar__minus_01_dot_50)
        (inReceptacle SaltShaker_bar__plus_08_dot_87_bar__plus_00_dot_90_bar__plus_07_dot_53 CounterTop_bar__plus_01_dot_10_bar__plus_00_dot_90_bar__minus_01_dot_50)
        (inReceptacle Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96 Cabinet_bar__plus_01_dot_14_bar__plus_00_dot_95_bar__minus_01_dot_07)
        (inReceptacle Egg_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39 Fridge_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21)
        (inReceptacle Apple_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82 Fridge_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21)
        (inReceptacle Cup_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25 Microwave_bar__plus_02_dot_47_bar__plus_00_dot_95_bar__plus_00_dot_22)
        (inReceptacle Potato_bar__plus_10_dot_28_bar__plus_01_dot_00_bar__plus_09_dot_68 Sink_bar__plus_02_dot_29_bar__plus_01_dot_00_bar__plus_00_dot_65_bar_SinkBasin)
        (inReceptacle Kettle_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11 StoveBurner_bar__plus_03_dot_43_bar__plus_00_dot_90_bar__plus_01_dot_08)
        (inReceptacle ButterKnife_bar__plus_11_dot_57_bar__plus_00_dot_95_bar__plus_10_dot_54 Drawer_bar__plus_03_dot_99_bar__plus_00_dot_90_bar__plus_02_dot_37)
        (receptacleAtLocation CounterTop_bar__plus_01_dot_10_bar__plus_00_dot_90_bar__minus_01_dot_50 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (receptacleAtLocation Cabinet_bar__plus_01_dot_14_bar__plus_00_dot_95_bar__minus_01_dot_07 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (receptacleAtLocation Cabinet_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64 loc_bar_2_bar_2_bar_2_bar_0)
        (receptacleAtLocation Fridge_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21 loc_bar_3_bar_5_bar_3_bar_15)
        (receptacleAtLocation Microwave_bar__plus_02_dot_47_bar__plus_00_dot_95_bar__plus_00_dot_22 loc_bar_4_bar__minus_3_bar_0_bar_30)
        (receptacleAtLocation Sink_bar__plus_02_dot_29_bar__plus_01_dot_00_bar__plus_00_dot_65_bar_SinkBasin loc_bar_5_bar_0_bar_1_bar_45)
        (receptacleAtLocation StoveBurner_bar__plus_03_dot_43_bar__plus_00_dot_90_bar__plus_01_dot_08 loc_bar_6_bar_3_bar_2_bar__minus_30)
        (receptacleAtLocation Toaster_bar__plus_03_dot_36_bar__plus_00_dot_95_bar__plus_01_dot_51 loc_bar_0_bar_6_bar_3_bar__minus_15)
        (receptacleAtLocation GarbageCan_bar__plus_04_dot_06_bar__plus_01_dot_00_bar__plus_01_dot_94 loc_bar_1_bar__minus_2_bar_0_bar_0)
        (receptacleAtLocation Drawer_bar__plus_03_dot_99_bar__plus_00_dot_90_bar__plus_02_dot_37 loc_bar_2_bar_1_bar_1_bar_15)
        (objectAtLocation Mug_bar__plus_07_dot_73_bar__plus_01_dot_00_bar__plus_07_dot_10 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (objectAtLocation SaltShaker_bar__plus_08_dot_87_bar__plus_00_dot_90_bar__plus_07_dot_53 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (objectAtLocation Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (objectAtLocation Egg_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39 loc_bar_3_bar_5_bar_3_bar_15)
        (objectAtLocation Apple_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82 loc_bar_3_bar_5_bar_3_bar_15)
        (objectAtLocation Cup_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25 loc_bar_4_bar__minus_3_bar_0_bar_30)
        (objectAtLocation Potato_bar__plus_10_dot_28_bar__plus_01_dot_00_bar__plus_09_dot_68 loc_bar_5_bar_0_bar_1_bar_45)
        (objectAtLocation Kettle_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11 loc_bar_6_bar_3_bar_2_bar__minus_30)
        (objectAtLocation ButterKnife_bar__plus_11_dot_57_bar__plus_00_dot_95_bar__plus_10_dot_54 loc_bar_2_bar_1_bar_1_bar_15)
        )

        (:goal
            (and
                (exists (?r - receptacle)
                    (exists (?o - object)
                        (and
                            (heatable ?o)
                            (objectType ?o EggType)
                            (receptacleType ?r CounterTopType)
                            (isHot ?o)
                            (inReceptacle ?o ?r)
                        )
                    )
                )
            )
        )
    )
